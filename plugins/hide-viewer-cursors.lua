-- hide-viewer-cursors: guests do not see where read-only viewers are looking (their cursors,
-- selections and viewports). Guests still see viewers join and leave, and everyone else sees
-- every cursor.
--
-- The gateway has no notion of roles, so this example reads them from a user-id convention:
-- ids starting with "guest:" are guests and ids starting with "viewer:" are viewers.
--
-- Hook:      filter_for(event, recipient, doc) -> event | nil
--            Called once per event and recipient; nil drops the event for that recipient only.
-- Config:    [plugins.config.hide-viewer-cursors]
--            guest_prefix = "guest:"     -- optional
--            viewer_prefix = "viewer:"   -- optional
-- Faults:    fail_closed = true, so if this filter ever fails (an error, the instruction budget, a
--            wrong return value) the event is dropped rather than shown: a privacy filter must not
--            leak on error.
-- Scope:     the example workspace "acme" only.

local plugin = {
  name = "hide-viewer-cursors",
  priority = 200,
  workspaces = { "acme" },
  fail_closed = true,
}

local function prefix(key, default)
  local value = plugin.config and plugin.config[key]
  if type(value) == "string" and value ~= "" then
    return value
  end
  return default
end

local function starts_with(text, start)
  return text:sub(1, #start) == start
end

-- Events that reveal where a user is looking in the document.
local revealing = {
  CursorMoved = true,
  ViewportChanged = true,
}

function plugin.filter_for(event, recipient, doc)
  local from_viewer = starts_with(event.user_id, prefix("viewer_prefix", "viewer:"))
  local to_guest = starts_with(recipient.user_id, prefix("guest_prefix", "guest:"))
  if not (from_viewer and to_guest) then
    return event
  end

  if revealing[event.type] then
    return nil
  end
  if event.type == "UserJoined" then
    -- The join itself stays visible, without the position the viewer joined at.
    event.cursor = nil
    event.selection = nil
    event.state.viewport = nil
  end
  return event
end

return plugin
