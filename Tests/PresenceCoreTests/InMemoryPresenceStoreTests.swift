import Foundation
import PresenceCore
import XCTest

final class InMemoryPresenceStoreTests: XCTestCase {
    private static func presence(_ userID: String, document: String, workspace: String = "w1", lastActiveAt: UInt64 = 5) -> UserPresence {
        UserPresence(
            userID: userID, documentID: document, workspaceID: workspace, name: userID, avatarURL: nil, color: "red",
            state: PresenceState(online: true, typing: false, focused: true, activity: .viewing, viewport: nil),
            cursor: nil, selection: nil, connectedAt: 1, lastActiveAt: lastActiveAt, lastCursorUpdate: 1
        )
    }

    private func presence(_ userID: String, document: String, workspace: String = "w1", lastActiveAt: UInt64 = 5) -> UserPresence {
        Self.presence(userID, document: document, workspace: workspace, lastActiveAt: lastActiveAt)
    }

    func testQueriesReturnStoredPresence() {
        let store = InMemoryPresenceStore(clock: ManualClock())
        store.store(presence("u1", document: "d1"))
        store.store(presence("u2", document: "d1"))
        store.store(presence("u1", document: "d2", lastActiveAt: 9))
        store.store(presence("u3", document: "d3", workspace: "w2"))

        XCTAssertEqual(store.documentPresence(documentID: "d1").map(\.userID), ["u1", "u2"])
        XCTAssertEqual(
            store.activeDocuments(workspaceID: "w1"),
            [DocumentUserCount(documentID: "d1", userCount: 2), DocumentUserCount(documentID: "d2", userCount: 1)]
        )
        XCTAssertEqual(
            store.documents(userID: "u1"),
            [UserDocumentActivity(documentID: "d1", lastActiveAt: 5), UserDocumentActivity(documentID: "d2", lastActiveAt: 9)]
        )
    }

    func testStoreReplacesRecord() {
        let store = InMemoryPresenceStore(clock: ManualClock())
        store.store(presence("u1", document: "d1"))
        var updated = presence("u1", document: "d1", lastActiveAt: 77)
        updated.state.typing = true
        store.store(updated)
        XCTAssertEqual(store.documentPresence(documentID: "d1"), [updated])
        XCTAssertEqual(store.documents(userID: "u1").first?.lastActiveAt, 77)
    }

    func testLastRemovalDropsDocumentFromWorkspace() {
        let store = InMemoryPresenceStore(clock: ManualClock())
        store.store(presence("u1", document: "d1"))
        store.store(presence("u2", document: "d1"))
        store.remove(userID: "u1", documentID: "d1", workspaceID: "w1")
        XCTAssertEqual(store.activeDocuments(workspaceID: "w1"), [DocumentUserCount(documentID: "d1", userCount: 1)])
        store.remove(userID: "u2", documentID: "d1", workspaceID: "w1")
        XCTAssertEqual(store.activeDocuments(workspaceID: "w1"), [], "an empty document must leave the workspace list")
        XCTAssertEqual(store.documents(userID: "u2"), [])
    }

    func testRecordsExpireWithoutRefresh() {
        let clock = ManualClock()
        let store = InMemoryPresenceStore(ttlSeconds: 30, clock: clock)
        store.store(presence("u1", document: "d1"))
        store.store(presence("u2", document: "d1"))
        clock.advance(by: 20_000)
        store.refresh(documentID: "d1", workspaceID: "w1", userIDs: ["u1"])
        clock.advance(by: 20_000)

        XCTAssertEqual(store.documentPresence(documentID: "d1").map(\.userID), ["u1"])
        XCTAssertEqual(store.documents(userID: "u2"), [])
        clock.advance(by: 20_000)
        XCTAssertEqual(store.activeDocuments(workspaceID: "w1"), [])
    }

    func testCompletionReadsMatchSynchronousReads() {
        let store = InMemoryPresenceStore(clock: ManualClock())
        store.store(presence("u1", document: "d1"))
        let done = expectation(description: "completion")
        store.documentPresence(documentID: "d1") { result in
            XCTAssertEqual(try? result.get().map(\.userID), ["u1"])
            done.fulfill()
        }
        wait(for: [done], timeout: 1)
    }

    func testConcurrentWritersKeepIndexesConsistent() {
        let store = InMemoryPresenceStore(clock: ManualClock())
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for index in 0..<500 {
                let user = "u\(worker)-\(index % 10)"
                store.store(Self.presence(user, document: "d\(index % 7)"))
                if index % 3 == 0 {
                    store.remove(userID: user, documentID: "d\(index % 7)", workspaceID: "w1")
                }
            }
        }
        let documents = store.activeDocuments(workspaceID: "w1")
        for document in documents {
            XCTAssertEqual(store.documentPresence(documentID: document.documentID).count, document.userCount)
            XCTAssertGreaterThan(document.userCount, 0)
        }
    }
}
