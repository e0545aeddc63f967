-- fast-idle: marks users of one workspace Idle and Away sooner than the gateway defaults
-- ([presence] activity_timeout_ms = 30 s, away_timeout_ms = 5 min), for a support team that
-- wants to see at a glance who is still looking at a ticket.
--
-- Hook:      activity(user, doc, idle_ms) -> "Idle" | "Away" | nil
--            idle_ms is the time in milliseconds since the user's last activity. The gateway calls
--            it about once a second per user while a workspace has an activity rule.
-- Config:    [plugins.config.fast-idle]
--            idle_after_ms = 10000    -- optional; default 10 s
--            away_after_ms = 60000    -- optional; default 60 s
-- Scope:     the example workspace "acme" only.

local plugin = {
  name = "fast-idle",
  priority = 100,
  workspaces = { "acme" },
}

local function setting(key, default)
  local value = plugin.config and plugin.config[key]
  if math.type(value) == "integer" and value > 0 then
    return value
  end
  return default
end

function plugin.activity(user, doc, idle_ms)
  if not user.state.online then
    return nil
  end
  if idle_ms >= setting("away_after_ms", 60000) then
    return "Away"
  end
  if idle_ms >= setting("idle_after_ms", 10000) then
    return "Idle"
  end
  -- Recently active: nil keeps the activity the gateway derived (Editing, Viewing, Selecting).
  return nil
end

return plugin
