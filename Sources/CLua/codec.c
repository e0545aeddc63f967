// The value encoding described in CLua.h: decoding arguments into Lua values and encoding results.
// Both run inside protected calls; malformed or unsupported values raise CLUA_ERROR_VALUE.
#include "clua_internal.h"
#include <stdlib.h>
#include <string.h>

// MARK: - Decoding

static void require_bytes(lua_State *L, const uint8_t *cursor, const uint8_t *end, size_t count) {
    if ((size_t)(end - cursor) < count) clua_raise(L, CLUA_ERROR_VALUE, "truncated value encoding");
}

static uint64_t read_uint64(const uint8_t *bytes) {
    uint64_t value = 0;
    for (int index = 7; index >= 0; index--) value = (value << 8) | bytes[index];
    return value;
}

static uint32_t read_uint32(const uint8_t *bytes) {
    return (uint32_t)bytes[0] | (uint32_t)bytes[1] << 8 | (uint32_t)bytes[2] << 16 | (uint32_t)bytes[3] << 24;
}

// The registry key of the table that keeps the shared argument tables, by slot.
static const char cache_key = 'c';

static void push_cache(lua_State *L) {
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &cache_key) == LUA_TTABLE) return;
    lua_pop(L, 1);
    lua_createtable(L, CLUA_CACHE_SLOTS, 0);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &cache_key);
}

static uint32_t read_slot(lua_State *L, const uint8_t **cursor, const uint8_t *end) {
    require_bytes(L, *cursor, end, 4);
    uint32_t slot = read_uint32(*cursor);
    *cursor += 4;
    if (slot >= CLUA_CACHE_SLOTS) {
        clua_raise(L, CLUA_ERROR_VALUE, "shared table slot %I is not below %d", (lua_Integer)slot, CLUA_CACHE_SLOTS);
    }
    return slot;
}

static void decode_at_depth(lua_State *L, const uint8_t **cursor, const uint8_t *end, const char *readonly_name,
                            int depth) {
    if (depth > CLUA_MAX_VALUE_DEPTH) {
        clua_raise(L, CLUA_ERROR_VALUE, "value nested deeper than %d levels", CLUA_MAX_VALUE_DEPTH);
    }
    luaL_checkstack(L, 4, "value nested too deeply");
    require_bytes(L, *cursor, end, 1);
    uint8_t tag = *(*cursor)++;

    switch (tag) {
    case CLUA_TAG_NIL:
        lua_pushnil(L);
        return;
    case CLUA_TAG_FALSE:
    case CLUA_TAG_TRUE:
        lua_pushboolean(L, tag == CLUA_TAG_TRUE);
        return;
    case CLUA_TAG_INTEGER:
        require_bytes(L, *cursor, end, 8);
        lua_pushinteger(L, (lua_Integer)read_uint64(*cursor));
        *cursor += 8;
        return;
    case CLUA_TAG_NUMBER: {
        require_bytes(L, *cursor, end, 8);
        uint64_t bits = read_uint64(*cursor);
        double number;
        memcpy(&number, &bits, sizeof number);
        lua_pushnumber(L, number);
        *cursor += 8;
        return;
    }
    case CLUA_TAG_STRING: {
        require_bytes(L, *cursor, end, 4);
        uint32_t length = read_uint32(*cursor);
        *cursor += 4;
        require_bytes(L, *cursor, end, length);
        lua_pushlstring(L, (const char *)*cursor, length);
        *cursor += length;
        return;
    }
    case CLUA_TAG_TABLE: {
        require_bytes(L, *cursor, end, 4);
        uint32_t count = read_uint32(*cursor);
        *cursor += 4;
        // Each pair takes at least two bytes, which bounds a corrupt count before any allocation.
        require_bytes(L, *cursor, end, (size_t)count * 2);
        lua_createtable(L, 0, (int)(count < 1024 ? count : 1024));
        for (uint32_t pair = 0; pair < count; pair++) {
            require_bytes(L, *cursor, end, 1);
            if (**cursor != CLUA_TAG_INTEGER && **cursor != CLUA_TAG_STRING) {
                clua_raise(L, CLUA_ERROR_VALUE, "table key with tag %d; keys must be integers or strings",
                           (int)**cursor);
            }
            decode_at_depth(L, cursor, end, readonly_name, depth + 1);
            decode_at_depth(L, cursor, end, readonly_name, depth + 1);
            lua_rawset(L, -3);
        }
        if (readonly_name != NULL) clua_sandbox_make_readonly(L, readonly_name);
        return;
    }
    case CLUA_TAG_CACHE_STORE: {
        uint32_t slot = read_slot(L, cursor, end);
        decode_at_depth(L, cursor, end, NULL, depth + 1);
        // Shared between calls and plugins, so the slot keeps the metatable of read-only views and
        // each call gets a view of its own: a rawset on one view reaches no other. Nested tables
        // could not be protected that way, so a shared table contains plain values only.
        if (lua_type(L, -1) != LUA_TTABLE) clua_raise(L, CLUA_ERROR_VALUE, "a shared value must be a table");
        lua_pushnil(L);
        while (lua_next(L, -2) != 0) {
            if (lua_type(L, -1) == LUA_TTABLE) clua_raise(L, CLUA_ERROR_VALUE, "a shared table must not contain tables");
            lua_pop(L, 1);
        }
        clua_sandbox_readonly_metatable(L, "this shared table");
        push_cache(L);
        lua_pushvalue(L, -2);
        lua_rawseti(L, -2, (lua_Integer)slot + 1);
        lua_pop(L, 1);
        clua_sandbox_push_view(L);
        return;
    }
    case CLUA_TAG_CACHE_LOAD: {
        uint32_t slot = read_slot(L, cursor, end);
        push_cache(L);
        if (lua_rawgeti(L, -1, (lua_Integer)slot + 1) == LUA_TNIL) {
            clua_raise(L, CLUA_ERROR_VALUE, "shared table slot %I is empty", (lua_Integer)slot);
        }
        lua_remove(L, -2);
        clua_sandbox_push_view(L);
        return;
    }
    default:
        clua_raise(L, CLUA_ERROR_VALUE, "unknown value tag %d", (int)tag);
    }
}

void clua_decode_value(lua_State *L, const uint8_t **cursor, const uint8_t *end, const char *readonly_name) {
    decode_at_depth(L, cursor, end, readonly_name, 0);
}

// MARK: - Encoding

void clua_result_reset(clua_runtime *runtime) { runtime->result_length = 0; }

static void append(lua_State *L, clua_runtime *runtime, const void *bytes, size_t count) {
    if (runtime->result_length + count > CLUA_MAX_RESULT_BYTES) {
        clua_raise(L, CLUA_ERROR_VALUE, "result larger than %d bytes", CLUA_MAX_RESULT_BYTES);
    }
    if (runtime->result_length + count > runtime->result_capacity) {
        size_t capacity = runtime->result_capacity ? runtime->result_capacity : 256;
        while (capacity < runtime->result_length + count) capacity *= 2;
        uint8_t *grown = realloc(runtime->result, capacity);
        if (grown == NULL) clua_raise(L, CLUA_ERROR_MEMORY, "out of memory while encoding the result");
        runtime->result = grown;
        runtime->result_capacity = capacity;
    }
    memcpy(runtime->result + runtime->result_length, bytes, count);
    runtime->result_length += count;
}

static void append_tag(lua_State *L, clua_runtime *runtime, uint8_t tag) { append(L, runtime, &tag, 1); }

static void append_uint64(lua_State *L, clua_runtime *runtime, uint64_t value) {
    uint8_t bytes[8];
    for (int index = 0; index < 8; index++) bytes[index] = (uint8_t)(value >> (8 * index));
    append(L, runtime, bytes, 8);
}

void clua_result_append_count(lua_State *L, clua_runtime *runtime, uint32_t count) {
    uint8_t bytes[4] = {(uint8_t)count, (uint8_t)(count >> 8), (uint8_t)(count >> 16), (uint8_t)(count >> 24)};
    append(L, runtime, bytes, 4);
}

static void append_string(lua_State *L, clua_runtime *runtime, int index) {
    size_t length = 0;
    const char *bytes = lua_tolstring(L, index, &length);
    if (length > UINT32_MAX) clua_raise(L, CLUA_ERROR_VALUE, "string too long to return");
    append_tag(L, runtime, CLUA_TAG_STRING);
    clua_result_append_count(L, runtime, (uint32_t)length);
    append(L, runtime, bytes, length);
}

/// Returns whether the key at `index` can cross: an integer or a string.
static int is_supported_key(lua_State *L, int index) {
    int type = lua_type(L, index);
    return type == LUA_TSTRING || (type == LUA_TNUMBER && lua_isinteger(L, index));
}

static void encode_table(lua_State *L, clua_runtime *runtime, int index, int depth, int describe) {
    if (depth >= CLUA_MAX_VALUE_DEPTH) {
        clua_raise(L, CLUA_ERROR_VALUE, "table nested deeper than %d levels (does it contain a cycle?)",
                   CLUA_MAX_VALUE_DEPTH);
    }
    luaL_checkstack(L, 4, "table nested too deeply");

    uint32_t count = 0;
    lua_pushnil(L);
    while (lua_next(L, index) != 0) {
        lua_pop(L, 1);
        if (is_supported_key(L, -1)) {
            count++;
        } else if (!describe) {
            clua_raise(L, CLUA_ERROR_VALUE, "table key of type %s; keys must be integers or strings",
                       luaL_typename(L, -1));
        }
    }

    append_tag(L, runtime, CLUA_TAG_TABLE);
    clua_result_append_count(L, runtime, count);
    lua_pushnil(L);
    while (lua_next(L, index) != 0) {
        if (is_supported_key(L, -2)) {
            if (lua_type(L, -2) == LUA_TSTRING) {
                append_string(L, runtime, -2);
            } else {
                append_tag(L, runtime, CLUA_TAG_INTEGER);
                append_uint64(L, runtime, (uint64_t)lua_tointeger(L, -2));
            }
            clua_encode_value(L, runtime, lua_gettop(L), depth + 1, describe);
        }
        lua_pop(L, 1);
    }
}

void clua_encode_value(lua_State *L, clua_runtime *runtime, int index, int depth, int describe) {
    index = lua_absindex(L, index);
    switch (lua_type(L, index)) {
    case LUA_TNIL:
        append_tag(L, runtime, CLUA_TAG_NIL);
        return;
    case LUA_TBOOLEAN:
        append_tag(L, runtime, lua_toboolean(L, index) ? CLUA_TAG_TRUE : CLUA_TAG_FALSE);
        return;
    case LUA_TNUMBER:
        if (lua_isinteger(L, index)) {
            append_tag(L, runtime, CLUA_TAG_INTEGER);
            append_uint64(L, runtime, (uint64_t)lua_tointeger(L, index));
        } else {
            double number = lua_tonumber(L, index);
            uint64_t bits;
            memcpy(&bits, &number, sizeof bits);
            append_tag(L, runtime, CLUA_TAG_NUMBER);
            append_uint64(L, runtime, bits);
        }
        return;
    case LUA_TSTRING:
        append_string(L, runtime, index);
        return;
    case LUA_TTABLE:
        encode_table(L, runtime, index, depth, describe);
        return;
    default:
        if (describe) {
            append_tag(L, runtime, CLUA_TAG_OPAQUE);
            return;
        }
        clua_raise(L, CLUA_ERROR_VALUE, "a %s value cannot be returned to the gateway", luaL_typename(L, index));
    }
}
