#!/usr/bin/env bash
# Builds and runs every libFuzzer target under fuzz/*/ for a bounded time.
#
# Usage: scripts/fuzz.sh [SECONDS]
#   SECONDS per target comes from the argument, else from the FUZZ_SECONDS environment variable,
#   else 60.
#
# Each target directory contains main.swift (the LLVMFuzzerTestOneInput entry), corpus/ (the seed
# inputs) and SOURCES, which lists the other Swift files to compile with main.swift: one path or
# glob per line, relative to the repository root, with # starting a comment.
#
# The script compiles each target with `swiftc -sanitize=fuzzer,address`, runs it on a copy of its
# corpus so that the seeds in git stay as they are, and fails when any target crashes, leaks, times
# out (5 s per input) or passes 2048 MB of memory. Crash inputs are kept under
# .build/fuzz/<Target>/artifacts/. The last line is "N passed, N failed".
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

seconds="${1:-${FUZZ_SECONDS:-60}}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || (( seconds < 1 )); then
    echo "error: SECONDS must be a whole number of seconds of at least 1, not \"$seconds\"" >&2
    exit 2
fi

swiftc="${SWIFTC:-swiftc}"
if ! command -v "$swiftc" >/dev/null; then
    echo "error: $swiftc not found; put the Swift toolchain's bin directory on PATH or set SWIFTC" >&2
    exit 2
fi

build_root="$root/.build/fuzz"
work="$(mktemp -d "${TMPDIR:-/tmp}/fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# Lists the sources of one target: its main.swift, then each SOURCES entry, globs expanded,
# without duplicates. Fails on an entry that matches no file.
target_sources() {
    local dir="$1"
    local -A seen=()
    local line path
    echo "$dir/main.swift"
    seen["$dir/main.swift"]=1
    while IFS= read -r line || [[ -n "$line" ]]; do
        line="${line%%#*}"
        line="${line#"${line%%[![:space:]]*}"}"
        line="${line%"${line##*[![:space:]]}"}"
        [[ -z "$line" ]] && continue
        local matched=0
        for path in $line; do
            if [[ -f "$path" ]]; then
                matched=1
                if [[ -z "${seen[$path]:-}" ]]; then
                    seen["$path"]=1
                    echo "$path"
                fi
            fi
        done
        if (( matched == 0 )); then
            echo "error: $dir/SOURCES lists \"$line\", which matches no file" >&2
            return 1
        fi
    done < "$dir/SOURCES"
}

targets=()
for dir in fuzz/*/; do
    dir="${dir%/}"
    [[ -f "$dir/main.swift" ]] && targets+=("$dir")
done
if (( ${#targets[@]} == 0 )); then
    echo "error: no fuzz targets found under fuzz/*/main.swift" >&2
    exit 1
fi

passed=0
failed=0
failures=()
for dir in "${targets[@]}"; do
    name="$(basename "$dir")"
    out="$build_root/$name"
    mkdir -p "$out/artifacts"

    if [[ ! -f "$dir/SOURCES" ]]; then
        echo "error: $dir/SOURCES is missing; list the files $name compiles, one per line" >&2
        failed=$((failed + 1))
        failures+=("$name (no SOURCES)")
        continue
    fi
    if ! target_sources "$dir" > "$out/sources.txt"; then
        failed=$((failed + 1))
        failures+=("$name (bad SOURCES)")
        continue
    fi
    mapfile -t sources < "$out/sources.txt"

    echo "== $name: building ${#sources[@]} files"
    if ! "$swiftc" -sanitize=fuzzer,address -parse-as-library -O "${sources[@]}" -o "$out/$name" \
        > "$out/build.log" 2>&1; then
        cat "$out/build.log" >&2
        echo "error: $name failed to build; see the compiler output above" >&2
        failed=$((failed + 1))
        failures+=("$name (build)")
        continue
    fi

    corpus="$work/$name-corpus"
    mkdir -p "$corpus"
    if [[ -d "$dir/corpus" ]]; then
        cp -R "$dir/corpus/." "$corpus/"
    else
        echo "warning: $dir/corpus is missing; $name starts from an empty corpus" >&2
    fi

    echo "== $name: fuzzing for $seconds s"
    # ASan's leak checker runs at exit of each input batch; libFuzzer reports leaks as failures.
    if ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1" "$out/$name" \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=5 -print_final_stats=1 \
        -artifact_prefix="$out/artifacts/" "$corpus" > "$out/fuzz.log" 2>&1; then
        runs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/fuzz.log" | grep -o '[0-9]*$' || true)"
        echo "== $name: passed (${runs:-?} inputs)"
        passed=$((passed + 1))
    else
        status=$?
        tail -n 40 "$out/fuzz.log" >&2
        echo "error: $name failed with exit status $status; the log is $out/fuzz.log and the input is in $out/artifacts/" >&2
        failed=$((failed + 1))
        failures+=("$name")
    fi
done

if (( failed > 0 )); then
    echo "failed targets: ${failures[*]}" >&2
fi
echo "$passed passed, $failed failed"
(( failed == 0 ))
