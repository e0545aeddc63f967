// The runtime: a Lua state with a limited allocator, the instruction budget and the protected entry
// points that Swift calls.
#include "clua_internal.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/// The count hook runs every this many instructions, so a call may overrun its budget by this much.
#define CLUA_HOOK_INTERVAL 1000

clua_runtime *clua_runtime_of(lua_State *L) {
    void *runtime = NULL;
    lua_getallocf(L, &runtime);
    return runtime;
}

// `format` takes lua_pushfstring's conversions only: %s %d %I %f %p %c %U %%, no widths.
int clua_raise(lua_State *L, clua_status failure, const char *format, ...) {
    clua_runtime_of(L)->failure = failure;
    va_list arguments;
    va_start(arguments, format);
    lua_pushvfstring(L, format, arguments);
    va_end(arguments);
    return lua_error(L);
}

// MARK: - Memory limit

/// Allocator that rejects any growth of the state past its limit. Shrinking and freeing always succeed,
/// which Lua relies on.
static void *limited_allocate(void *user_data, void *pointer, size_t old_size, size_t new_size) {
    clua_runtime *runtime = user_data;
    // When `pointer` is NULL, `old_size` is a type tag, not a size.
    size_t current = pointer ? old_size : 0;

    if (new_size == 0) {
        free(pointer);
        runtime->memory_used -= current;
        return NULL;
    }

    if (new_size > current && runtime->memory_used - current + new_size > runtime->memory_limit) {
        // Some rejections raise a memory error and some (lauxlib's string buffers) a plain error,
        // and a pcall in the plugin could catch either. So the first rejection aborts the call,
        // even one that an emergency collection could have satisfied.
        if (runtime->in_call) runtime->abort = CLUA_ABORT_MEMORY;
        return NULL;
    }

    void *resized = realloc(pointer, new_size);
    if (resized == NULL) return NULL;
    runtime->memory_used = runtime->memory_used - current + new_size;
    return resized;
}

// MARK: - Instruction budget

static void record_position(clua_runtime *runtime, const lua_Debug *frame) {
    snprintf(runtime->error_source, sizeof runtime->error_source, "%s", frame->short_src);
    runtime->error_line = frame->currentline;
}

static void count_hook(lua_State *L, lua_Debug *frame) {
    clua_runtime *runtime = clua_runtime_of(L);
    if (runtime->abort == CLUA_ABORT_NONE) {
        runtime->instructions_used += runtime->hook_interval;
        if (runtime->instructions_used <= runtime->instruction_limit) return;
        runtime->abort = CLUA_ABORT_INSTRUCTIONS;
    }

    // From here on every instruction raises, so a pcall in the plugin that catches this error
    // gets control back only to fail again at its caller's next instruction.
    if (!runtime->hook_every_instruction) {
        lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
        runtime->hook_every_instruction = 1;
    }
    if (runtime->error_line == 0 && lua_getinfo(L, "Sl", frame) && frame->currentline > 0) {
        record_position(runtime, frame);
    }
    clua_sandbox_push_abort_message(L, runtime->abort);
    lua_error(L);
}

// MARK: - Protected calls

/// Records where the error was raised: the innermost frame that runs Lua code with line numbers.
static int message_handler(lua_State *L) {
    clua_runtime *runtime = clua_runtime_of(L);
    if (runtime->error_line != 0) return 1;
    lua_Debug frame;
    for (int level = 0; level < 32 && lua_getstack(L, level, &frame); level++) {
        if (lua_getinfo(L, "Sl", &frame) && frame.currentline > 0) {
            record_position(runtime, &frame);
            break;
        }
    }
    return 1;
}

static void begin_call(clua_runtime *runtime) {
    runtime->in_call = 1;
    runtime->abort = CLUA_ABORT_NONE;
    runtime->failure = CLUA_OK;
    runtime->instructions_used = 0;
    runtime->error_message[0] = '\0';
    runtime->error_source[0] = '\0';
    runtime->error_line = 0;
    // Setting the hook also restarts its countdown, so no count carries over from the last call.
    lua_sethook(runtime->L, count_hook, LUA_MASKCOUNT, runtime->hook_interval);
    runtime->hook_every_instruction = 0;
}

static int collect_garbage(lua_State *L) {
    lua_gc(L, LUA_GCCOLLECT);
    return 0;
}

static void set_error_message(clua_runtime *runtime, int status) {
    lua_State *L = runtime->L;
    double megabytes = (double)runtime->memory_limit / (1024.0 * 1024.0);
    if (runtime->abort == CLUA_ABORT_INSTRUCTIONS) {
        snprintf(runtime->error_message, sizeof runtime->error_message,
                 "instruction limit of %lld exceeded", (long long)runtime->instruction_limit);
    } else if (runtime->abort == CLUA_ABORT_MEMORY || status == LUA_ERRMEM) {
        snprintf(runtime->error_message, sizeof runtime->error_message,
                 "memory limit of %.1f MiB exceeded", megabytes);
    } else if (lua_type(L, -1) == LUA_TSTRING) {
        snprintf(runtime->error_message, sizeof runtime->error_message, "%s", lua_tostring(L, -1));
    } else {
        snprintf(runtime->error_message, sizeof runtime->error_message,
                 "error object is a %s value", luaL_typename(L, -1));
    }
}

static int status_of_call(clua_runtime *runtime, int status) {
    if (runtime->abort == CLUA_ABORT_INSTRUCTIONS) return CLUA_ERROR_INSTRUCTIONS;
    if (runtime->abort == CLUA_ABORT_MEMORY || status == LUA_ERRMEM) return CLUA_ERROR_MEMORY;
    if (status == LUA_OK) return CLUA_OK;
    if (runtime->failure != CLUA_OK) return runtime->failure;
    if (status == LUA_ERRSYNTAX) return CLUA_ERROR_SYNTAX;
    return CLUA_ERROR_RUNTIME;
}

/// Runs `body(payload)` under lua_pcall with a fresh instruction budget and maps the outcome to a
/// clua_status. A call that hit its memory limit fails even when the plugin caught the error.
static int run_protected(clua_runtime *runtime, lua_CFunction body, void *payload) {
    lua_State *L = runtime->L;
    int base = lua_gettop(L);
    begin_call(runtime);

    // Every entry point restores the stack top, so the stack is empty here and its initial
    // 2 * LUA_MINSTACK slots leave room for these three pushes without growing it.
    lua_pushcfunction(L, message_handler);
    lua_pushcfunction(L, body);
    lua_pushlightuserdata(L, payload);
    int status = lua_pcall(L, 1, 0, base + 1);
    int result = status_of_call(runtime, status);
    if (result != CLUA_OK) set_error_message(runtime, status);
    lua_settop(L, base);

    int aborted = runtime->abort != CLUA_ABORT_NONE || status == LUA_ERRMEM;
    runtime->in_call = 0;
    runtime->abort = CLUA_ABORT_NONE;
    lua_sethook(L, count_hook, LUA_MASKCOUNT, runtime->hook_interval);
    runtime->hook_every_instruction = 0;
    if (aborted) {
        // A runaway call may leave much garbage: give it back now, not during a later call.
        lua_pushcfunction(L, collect_garbage);
        lua_pcall(L, 0, 0, 0);
        lua_settop(L, base);
    }
    return result;
}

// MARK: - Creation

static int initialize_body(lua_State *L) {
    clua_sandbox_initialize(L);
    return 0;
}

clua_runtime *clua_runtime_create(size_t memory_limit_bytes, int64_t instruction_limit,
                                  clua_log_callback log_callback, void *log_context) {
    clua_runtime *runtime = calloc(1, sizeof *runtime);
    if (runtime == NULL) return NULL;
    runtime->memory_limit = memory_limit_bytes;
    runtime->instruction_limit = instruction_limit > 0 ? instruction_limit : 1;
    runtime->hook_interval =
        runtime->instruction_limit < CLUA_HOOK_INTERVAL ? (int)runtime->instruction_limit : CLUA_HOOK_INTERVAL;
    runtime->log_callback = log_callback;
    runtime->log_context = log_context;
    runtime->next_handle = 1;

    runtime->L = lua_newstate(limited_allocate, runtime);
    if (runtime->L == NULL) {
        free(runtime);
        return NULL;
    }
    // Warnings (from finalizers, which plugins cannot install) stay off.
    lua_setwarnf(runtime->L, NULL, NULL);
    if (run_protected(runtime, initialize_body, NULL) != CLUA_OK) {
        clua_runtime_destroy(runtime);
        return NULL;
    }
    return runtime;
}

void clua_runtime_destroy(clua_runtime *runtime) {
    if (runtime == NULL) return;
    lua_close(runtime->L);
    free(runtime->result);
    free(runtime);
}

size_t clua_runtime_memory_used(const clua_runtime *runtime) { return runtime->memory_used; }

const char *clua_last_error_message(const clua_runtime *runtime) { return runtime->error_message; }
const char *clua_last_error_source(const clua_runtime *runtime) { return runtime->error_source; }
int clua_last_error_line(const clua_runtime *runtime) { return runtime->error_line; }

// MARK: - Plugins

/// The registry key of the table that maps plugin handles to plugin tables.
static char plugins_key;

typedef struct {
    const char *source;
    size_t source_length;
    const char *chunk_name;
    int handle;
} load_request;

static void push_plugins(lua_State *L) {
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &plugins_key) == LUA_TTABLE) return;
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &plugins_key);
}

static int load_body(lua_State *L) {
    load_request *request = lua_touserdata(L, 1);
    int status = luaL_loadbufferx(L, request->source, request->source_length, request->chunk_name, "t");
    if (status == LUA_ERRSYNTAX) {
        clua_runtime_of(L)->failure = CLUA_ERROR_SYNTAX;
        return lua_error(L);
    }
    if (status != LUA_OK) return lua_error(L);

    // The main chunk's only upvalue is _ENV: point it at the plugin's own environment.
    clua_sandbox_push_environment(L, request->handle);
    lua_setupvalue(L, -2, 1);

    lua_call(L, 0, 1);
    if (lua_type(L, -1) != LUA_TTABLE) {
        return clua_raise(L, CLUA_ERROR_VALUE, "the chunk returned a %s value; a plugin must return its table",
                          luaL_typename(L, -1));
    }
    push_plugins(L);
    lua_pushvalue(L, -2);
    lua_rawseti(L, -2, request->handle);
    return 0;
}

int clua_plugin_load(clua_runtime *runtime, const char *source, size_t source_length,
                     const char *chunk_name, int *out_handle) {
    load_request request = {source, source_length, chunk_name, runtime->next_handle};
    int result = run_protected(runtime, load_body, &request);
    if (result == CLUA_OK) {
        runtime->next_handle++;
        *out_handle = request.handle;
    }
    return result;
}

/// Pushes the table of the plugin with `handle`, or raises CLUA_ERROR_NO_PLUGIN.
static void push_plugin(lua_State *L, int handle) {
    push_plugins(L);
    if (lua_rawgeti(L, -1, handle) != LUA_TTABLE) {
        clua_raise(L, CLUA_ERROR_NO_PLUGIN, "no plugin has handle %d", handle);
    }
    lua_remove(L, -2);
}

typedef struct {
    int handle;
    const char *hook;
    const uint8_t *arguments;
    size_t arguments_length;
} call_request;

static int describe_body(lua_State *L) {
    call_request *request = lua_touserdata(L, 1);
    clua_runtime *runtime = clua_runtime_of(L);
    push_plugin(L, request->handle);
    clua_result_reset(runtime);
    clua_encode_value(L, runtime, lua_gettop(L), 0, 1);
    return 0;
}

int clua_plugin_describe(clua_runtime *runtime, int handle, const uint8_t **out, size_t *out_length) {
    call_request request = {handle, NULL, NULL, 0};
    int result = run_protected(runtime, describe_body, &request);
    *out = runtime->result;
    *out_length = result == CLUA_OK ? runtime->result_length : 0;
    return result;
}

static int set_config_body(lua_State *L) {
    call_request *request = lua_touserdata(L, 1);
    push_plugin(L, request->handle);
    const uint8_t *cursor = request->arguments;
    const uint8_t *end = cursor + request->arguments_length;
    clua_decode_value(L, &cursor, end, "plugin.config");
    if (cursor != end) return clua_raise(L, CLUA_ERROR_VALUE, "trailing bytes after the config value");
    lua_setfield(L, -2, "config");
    return 0;
}

int clua_plugin_set_config(clua_runtime *runtime, int handle, const uint8_t *config, size_t length) {
    call_request request = {handle, NULL, config, length};
    return run_protected(runtime, set_config_body, &request);
}

static int call_body(lua_State *L) {
    call_request *request = lua_touserdata(L, 1);
    clua_runtime *runtime = clua_runtime_of(L);
    push_plugin(L, request->handle);
    clua_result_reset(runtime);

    // The arguments are decoded before the hook is looked up, so that the shared tables they
    // store (CLUA_TAG_CACHE_STORE) are kept even when this plugin lacks the hook.
    int plugin_index = lua_gettop(L);
    lua_pushnil(L);  // replaced by the hook function below
    int function_index = lua_gettop(L);
    const uint8_t *cursor = request->arguments;
    const uint8_t *end = cursor + request->arguments_length;
    while (cursor < end) {
        luaL_checkstack(L, 4, "too many hook arguments");
        clua_decode_value(L, &cursor, end, NULL);
    }

    lua_pushstring(L, request->hook);
    int type = lua_rawget(L, plugin_index);
    if (type == LUA_TNIL) {
        clua_result_append_count(L, runtime, 0);
        return 0;
    }
    if (type != LUA_TFUNCTION) {
        return clua_raise(L, CLUA_ERROR_VALUE, "field '%s' is a %s value, expected a function",
                          request->hook, lua_typename(L, type));
    }
    lua_replace(L, function_index);
    lua_call(L, lua_gettop(L) - function_index, LUA_MULTRET);

    int count = lua_gettop(L) - function_index + 1;
    clua_result_append_count(L, runtime, (uint32_t)count);
    for (int index = function_index; index < function_index + count; index++) {
        clua_encode_value(L, runtime, index, 0, 0);
    }
    return 0;
}

int clua_plugin_call(clua_runtime *runtime, int handle, const char *hook, const uint8_t *arguments,
                     size_t arguments_length, const uint8_t **out, size_t *out_length) {
    call_request request = {handle, hook, arguments, arguments_length};
    int result = run_protected(runtime, call_body, &request);
    *out = runtime->result;
    *out_length = result == CLUA_OK ? runtime->result_length : 0;
    return result;
}
