#ifndef CLUA_INTERNAL_H
#define CLUA_INTERNAL_H
// Definitions shared by the shim's C files. Swift never sees this header, so it cannot reach the Lua
// API directly.
#include "CLua.h"
#include <lua5.4/lua.h>
#include <lua5.4/lauxlib.h>
#include <lua5.4/lualib.h>

/// The reason the running call must stop. Once set, the count hook raises an error on every following
/// instruction until the outermost protected call returns, so no pcall inside a plugin can swallow it.
typedef enum {
    CLUA_ABORT_NONE = 0,
    CLUA_ABORT_INSTRUCTIONS,
    CLUA_ABORT_MEMORY,
} clua_abort;

struct clua_runtime {
    lua_State *L;

    // Memory accounting, updated only by the allocator.
    size_t memory_used;
    size_t memory_limit;

    // Instruction budget of the running call.
    int64_t instruction_limit;
    int64_t instructions_used;
    int hook_interval;
    int hook_every_instruction;

    // State of the running protected call.
    int in_call;
    clua_abort abort;
    /// A shim-detected failure (value, syntax, missing plugin) raised as a Lua error; CLUA_OK if none.
    clua_status failure;

    clua_log_callback log_callback;
    void *log_context;
    int next_handle;

    // Encoded result of the last call; malloc'd outside the Lua allocator.
    uint8_t *result;
    size_t result_length;
    size_t result_capacity;

    char error_message[1024];
    char error_source[256];
    int error_line;
};

/// The runtime that owns `L`, stored as the allocator's user data.
clua_runtime *clua_runtime_of(lua_State *L);

/// Raises a Lua error with a formatted message and records `failure` as the reason.
int clua_raise(lua_State *L, clua_status failure, const char *format, ...);

// sandbox.c
/// Opens the allowed libraries, hardens the string metatable and stores the templates each plugin
/// environment is copied from. Runs inside a protected call.
void clua_sandbox_initialize(lua_State *L);
/// Pushes a new environment table for the plugin with `handle`.
void clua_sandbox_push_environment(lua_State *L, int handle);
/// Replaces the table at the top of the stack with a read-only view of it. A write raises
/// "NAME is read-only". `rawset` still writes into the view itself, which hides nothing from other
/// views, so a table shared between calls gets a new view in each call.
void clua_sandbox_make_readonly(lua_State *L, const char *name);
/// Replaces the table at the top of the stack with the metatable that makes views of it read-only.
void clua_sandbox_readonly_metatable(lua_State *L, const char *name);
/// Replaces the metatable at the top of the stack with a new, empty view that uses it.
void clua_sandbox_push_view(lua_State *L);
/// Pushes the message raised for `abort` (preallocated, so raising it needs no memory).
void clua_sandbox_push_abort_message(lua_State *L, clua_abort abort);

// codec.c
/// Decodes one value from [*cursor, end) and pushes it; tables become read-only views named
/// `readonly_name` unless it is NULL. Raises CLUA_ERROR_VALUE on malformed input.
void clua_decode_value(lua_State *L, const uint8_t **cursor, const uint8_t *end, const char *readonly_name);
/// Empties the runtime's result buffer.
void clua_result_reset(clua_runtime *runtime);
/// Appends a uint32 to the result buffer.
void clua_result_append_count(lua_State *L, clua_runtime *runtime, uint32_t count);
/// Encodes the value at `index` into the result buffer. With `describe` set, functions and other
/// values that cannot cross become CLUA_TAG_OPAQUE instead of raising.
void clua_encode_value(lua_State *L, clua_runtime *runtime, int index, int depth, int describe);

#endif
