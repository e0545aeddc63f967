// The sandbox: what a plugin's environment contains, the gateway table, and read-only views.
//
// Every plugin gets its own environment table holding copies of the allowed functions and its own
// copies of the library tables, so a plugin that assigns to `string.upper` or `_G.pairs` changes
// only its own copy. The real library tables stay in the registry, out of every plugin's reach.
#include "clua_internal.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

// Registry keys: only their addresses matter, and each must be a distinct object.
static char base_template_key;
static char library_templates_key;
static char instructions_message_key;
static char memory_message_key;

/// Functions of the base library a plugin may use. Left out: load, loadfile, dofile, require,
/// collectgarbage and print (which writes to the gateway's stdout); setmetatable is replaced.
static const char *const allowed_base_functions[] = {
    "assert", "error", "getmetatable", "ipairs", "next", "pairs", "pcall", "rawequal", "rawget",
    "rawlen", "rawset", "select", "tonumber", "tostring", "type", "xpcall", "_VERSION", NULL,
};

/// Functions of the os library a plugin may use; the rest reach files, processes and the
/// environment.
static const char *const allowed_os_functions[] = {"time", "clock", "date", NULL};

/// Libraries whose copies every environment receives.
// NOTE: the count hook runs between VM instructions, not inside one C function, so a string
// pattern that backtracks heavily (many `.-` over a long subject) is bounded only by Lua's pattern
// recursion limit, not by the instruction budget.
static const char *const copied_libraries[] = {"string", "table", "math", "utf8", "os", NULL};

// MARK: - Replaced base functions

/// setmetatable without __gc: finalizers run with hooks disabled, so one that loops would escape
/// the instruction budget and stall the event loop.
static int guarded_setmetatable(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    int type = lua_type(L, 2);
    luaL_argexpected(L, type == LUA_TNIL || type == LUA_TTABLE, 2, "nil or table");
    if (type == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL) {
            return luaL_error(L, "__gc metamethods are not allowed in plugins");
        }
        lua_pop(L, 1);
    }
    if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL) {
        return luaL_error(L, "cannot change a protected metatable");
    }
    lua_settop(L, 2);
    lua_setmetatable(L, 1);
    return 1;
}

// MARK: - The gateway table

static int gateway_log(lua_State *L) {
    static const char *const levels[] = {"debug", "info", "warning", "error", NULL};
    int level = luaL_checkoption(L, 1, NULL, levels);
    size_t length = 0;
    const char *message = luaL_checklstring(L, 2, &length);
    if (length > CLUA_MAX_LOG_MESSAGE) length = CLUA_MAX_LOG_MESSAGE;

    clua_runtime *runtime = clua_runtime_of(L);
    int handle = (int)lua_tointeger(L, lua_upvalueindex(1));
    if (runtime->log_callback != NULL) {
        runtime->log_callback(runtime->log_context, handle, level, message, length);
    }
    return 0;
}

static int gateway_now_ms(lua_State *L) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    lua_pushinteger(L, (lua_Integer)now.tv_sec * 1000 + now.tv_nsec / 1000000);
    return 1;
}

/// gateway.seahash(s [, modulus]): the 64-bit hash as an integer (negative when the top bit is
/// set), or with a positive modulus the unsigned hash modulo it, which is never negative.
static int gateway_seahash(lua_State *L) {
    size_t length = 0;
    const char *bytes = luaL_checklstring(L, 1, &length);
    uint64_t hash = clua_seahash(bytes, length);
    if (lua_isnoneornil(L, 2)) {
        lua_pushinteger(L, (lua_Integer)hash);
        return 1;
    }
    lua_Integer modulus = luaL_checkinteger(L, 2);
    luaL_argcheck(L, modulus > 0, 2, "modulus must be a positive integer");
    lua_pushinteger(L, (lua_Integer)(hash % (uint64_t)modulus));
    return 1;
}

// MARK: - Read-only views

static int readonly_newindex(lua_State *L) {
    return luaL_error(L, "%s is read-only", lua_tostring(L, lua_upvalueindex(1)));
}

static int readonly_length(lua_State *L) {
    lua_pushinteger(L, (lua_Integer)lua_rawlen(L, lua_upvalueindex(1)));
    return 1;
}

static int readonly_next(lua_State *L) {
    lua_settop(L, 2);
    if (lua_next(L, lua_upvalueindex(1)) == 0) return 0;
    return 2;
}

static int readonly_pairs(lua_State *L) {
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushcclosure(L, readonly_next, 1);
    lua_pushnil(L);
    lua_pushnil(L);
    return 3;
}

void clua_sandbox_readonly_metatable(lua_State *L, const char *name) {
    int target = lua_gettop(L);
    lua_createtable(L, 0, 5);
    lua_pushvalue(L, target);
    lua_setfield(L, -2, "__index");
    lua_pushstring(L, name);
    lua_pushcclosure(L, readonly_newindex, 1);
    lua_setfield(L, -2, "__newindex");
    lua_pushvalue(L, target);
    lua_pushcclosure(L, readonly_length, 1);
    lua_setfield(L, -2, "__len");
    lua_pushvalue(L, target);
    lua_pushcclosure(L, readonly_pairs, 1);
    lua_setfield(L, -2, "__pairs");
    // getmetatable returns false, so the plugin cannot reach the table behind the view.
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_replace(L, target);
}

void clua_sandbox_push_view(lua_State *L) {
    lua_newtable(L);
    lua_insert(L, -2);
    lua_setmetatable(L, -2);
}

void clua_sandbox_make_readonly(lua_State *L, const char *name) {
    clua_sandbox_readonly_metatable(L, name);
    clua_sandbox_push_view(L);
}

// MARK: - Setup

static void copy_fields(lua_State *L, int source, int destination, const char *const *names) {
    for (const char *const *name = names; *name != NULL; name++) {
        lua_getfield(L, source, *name);
        lua_setfield(L, destination, *name);
    }
}

/// Pushes a shallow copy of the table at `index`.
static void push_copy(lua_State *L, int index) {
    index = lua_absindex(L, index);
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, index) != 0) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
}

void clua_sandbox_initialize(lua_State *L) {
    luaL_requiref(L, "_G", luaopen_base, 0);
    int globals = lua_gettop(L);
    lua_newtable(L);
    copy_fields(L, globals, lua_gettop(L), allowed_base_functions);
    lua_pushcfunction(L, guarded_setmetatable);
    lua_setfield(L, -2, "setmetatable");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &base_template_key);

    lua_newtable(L);
    int templates = lua_gettop(L);
    luaL_requiref(L, "string", luaopen_string, 0);
    // Strings index this very table through their shared metatable, so ("").dump must go too.
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_setfield(L, templates, "string");
    luaL_requiref(L, "table", luaopen_table, 0);
    lua_setfield(L, templates, "table");
    luaL_requiref(L, "math", luaopen_math, 0);
    // The generator state is shared by every plugin in the state, so no plugin may reseed it.
    lua_pushnil(L);
    lua_setfield(L, -2, "randomseed");
    lua_setfield(L, templates, "math");
    luaL_requiref(L, "utf8", luaopen_utf8, 0);
    lua_setfield(L, templates, "utf8");
    luaL_requiref(L, "os", luaopen_os, 0);
    lua_newtable(L);
    copy_fields(L, lua_gettop(L) - 1, lua_gettop(L), allowed_os_functions);
    lua_setfield(L, templates, "os");
    lua_pop(L, 1);  // the full os library
    lua_rawsetp(L, LUA_REGISTRYINDEX, &library_templates_key);

    // The string metatable is shared by every string in the state: hide it from getmetatable.
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 2);

    lua_pushliteral(L, "instruction limit exceeded");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &instructions_message_key);
    lua_pushliteral(L, "memory limit exceeded");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &memory_message_key);
    lua_settop(L, globals - 1);
}

void clua_sandbox_push_environment(lua_State *L, int handle) {
    lua_newtable(L);
    int environment = lua_gettop(L);

    lua_rawgetp(L, LUA_REGISTRYINDEX, &base_template_key);
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, environment);
    }
    lua_pop(L, 1);

    lua_rawgetp(L, LUA_REGISTRYINDEX, &library_templates_key);
    int templates = lua_gettop(L);
    for (const char *const *name = copied_libraries; *name != NULL; name++) {
        lua_getfield(L, templates, *name);
        push_copy(L, -1);
        lua_setfield(L, environment, *name);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);

    lua_createtable(L, 0, 3);
    lua_pushinteger(L, handle);
    lua_pushcclosure(L, gateway_log, 1);
    lua_setfield(L, -2, "log");
    lua_pushcfunction(L, gateway_now_ms);
    lua_setfield(L, -2, "now_ms");
    lua_pushcfunction(L, gateway_seahash);
    lua_setfield(L, -2, "seahash");
    lua_setfield(L, environment, "gateway");

    lua_pushvalue(L, environment);
    lua_setfield(L, environment, "_G");
}

void clua_sandbox_push_abort_message(lua_State *L, clua_abort abort) {
    const void *key = abort == CLUA_ABORT_MEMORY ? (const void *)&memory_message_key
                                                 : (const void *)&instructions_message_key;
    lua_rawgetp(L, LUA_REGISTRYINDEX, key);
}
