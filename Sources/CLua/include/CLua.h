#ifndef CLUA_H
#define CLUA_H
// The only door between Swift and Lua 5.4. Lua raises errors with longjmp, so every function here
// that runs Lua code or touches a Lua stack does so inside lua_pcall and returns a status code.
// Swift never calls a lua_* function itself, so no Lua error can unwind through a Swift frame.
//
// Values cross the door in a small tagged binary form (see "Value encoding" below) because building
// Lua tables from Swift would need API calls that can raise.
#include <stddef.h>
#include <stdint.h>

/// One sandboxed Lua state with its memory limit, instruction budget and loaded plugins. It is not
/// thread-safe: one thread owns it from create to destroy.
typedef struct clua_runtime clua_runtime;

/// Result of every call that runs Lua code.
typedef enum {
    CLUA_OK = 0,
    /// The code raised an error (error(), a failed assertion, indexing nil...).
    CLUA_ERROR_RUNTIME = 1,
    /// The chunk did not compile, or it was not text.
    CLUA_ERROR_SYNTAX = 2,
    /// The state reached its memory limit during the call.
    CLUA_ERROR_MEMORY = 3,
    /// The call ran past its instruction budget.
    CLUA_ERROR_INSTRUCTIONS = 4,
    /// A value could not cross the door: an unsupported type, a cycle, too deep or too large.
    CLUA_ERROR_VALUE = 5,
    /// The plugin handle does not exist.
    CLUA_ERROR_NO_PLUGIN = 6,
} clua_status;

/// Receives gateway.log(level, message) calls. `plugin_handle` is the handle returned by
/// clua_plugin_load; `level` is 0 debug, 1 info, 2 warning, 3 error. The message is not
/// NUL-terminated, may contain any bytes and is at most CLUA_MAX_LOG_MESSAGE bytes long. The callback
/// must not call back into this runtime.
typedef void (*clua_log_callback)(void *context, int plugin_handle, int level, const char *message,
                                  size_t message_length);

/// Longer gateway.log messages are cut to this many bytes.
#define CLUA_MAX_LOG_MESSAGE 1024
/// Maximum nesting of tables that cross the door in either direction.
#define CLUA_MAX_VALUE_DEPTH 16
/// Maximum size in bytes of one encoded result.
#define CLUA_MAX_RESULT_BYTES (1024 * 1024)

// Value encoding. A value is one tag byte followed by its payload; integers are little-endian.
//   'n' nil          'f' false          't' true
//   'i' int64        'd' float64 (IEEE 754 bits as uint64)
//   's' uint32 byte count, then the bytes
//   'T' uint32 pair count, then that many key/value pairs; keys are 'i' or 's' values
//   'F' a function or another value that cannot cross (only in clua_plugin_describe output)
//   'C' uint32 slot, then a table of plain values: a read-only view of it, the table kept in the slot
//   'c' uint32 slot: a new read-only view of the table kept by an earlier 'C' (both only in arguments)
// Arguments are a concatenation of values. Results are a uint32 count followed by that many values.
// A slot lives as long as the state. Every hook call decodes all its arguments, even when the
// plugin lacks the hook, so a 'C' in a call that reached the state is always stored.
#define CLUA_TAG_NIL 'n'
#define CLUA_TAG_FALSE 'f'
#define CLUA_TAG_TRUE 't'
#define CLUA_TAG_INTEGER 'i'
#define CLUA_TAG_NUMBER 'd'
#define CLUA_TAG_STRING 's'
#define CLUA_TAG_TABLE 'T'
#define CLUA_TAG_OPAQUE 'F'
#define CLUA_TAG_CACHE_STORE 'C'
#define CLUA_TAG_CACHE_LOAD 'c'
/// Number of slots for shared argument tables ('C' and 'c').
#define CLUA_CACHE_SLOTS 64

/// Creates a state whose allocations are limited to `memory_limit_bytes` and whose every call
/// (a hook call or a chunk's top-level run) may execute about `instruction_limit` VM instructions.
/// The budget is checked every 1,000 instructions, so a call may overrun it by up to that many.
/// Returns NULL when the state cannot be created within the memory limit.
clua_runtime *clua_runtime_create(size_t memory_limit_bytes, int64_t instruction_limit,
                                  clua_log_callback log_callback, void *log_context);

/// Closes the state and frees everything it allocated.
void clua_runtime_destroy(clua_runtime *runtime);

/// Bytes currently allocated by the state.
size_t clua_runtime_memory_used(const clua_runtime *runtime);

/// Compiles `source` as text (binary chunks are rejected) in a fresh sandboxed environment, runs its
/// top level under the instruction budget and keeps the table it returns. `chunk_name` appears in
/// error messages ("name:line: message"). On CLUA_OK, `*out_handle` identifies the plugin.
/// A chunk that returns something other than a table fails with CLUA_ERROR_VALUE.
int clua_plugin_load(clua_runtime *runtime, const char *source, size_t source_length,
                     const char *chunk_name, int *out_handle);

/// Encodes the plugin's returned table one level deep into the result buffer: each field is
/// encoded in full, except that functions and other values that cannot cross become 'F'. Reads
/// the table with raw access, so no metamethod runs.
int clua_plugin_describe(clua_runtime *runtime, int handle, const uint8_t **out, size_t *out_length);

/// Stores an encoded table as the plugin's `config` field, wrapped so that the plugin can read it
/// (pairs, ipairs, #, indexing) but not change it or reach the table behind it.
int clua_plugin_set_config(clua_runtime *runtime, int handle, const uint8_t *config, size_t length);

/// Calls the plugin table's field `hook` with the encoded arguments under the instruction budget and
/// encodes every value it returns into the result buffer. A missing (nil) hook returns zero values;
/// a field that is not a function fails with CLUA_ERROR_VALUE. The result buffer stays valid until
/// the next call on this runtime.
int clua_plugin_call(clua_runtime *runtime, int handle, const char *hook, const uint8_t *arguments,
                     size_t arguments_length, const uint8_t **out, size_t *out_length);

/// Message of the last failed call, NUL-terminated, at most 1,023 bytes.
const char *clua_last_error_message(const clua_runtime *runtime);
/// Chunk name of the Lua code that was running when the last call failed, or "" when unknown.
const char *clua_last_error_source(const clua_runtime *runtime);
/// Line of the Lua code that was running when the last call failed, or 0 when unknown.
int clua_last_error_line(const clua_runtime *runtime);

/// SeaHash of `length` bytes, the same function as the Rust crate seahash's `hash`.
uint64_t clua_seahash(const void *bytes, size_t length);

#endif
