-- workspace-capacity: caps the number of distinct users per document, per workspace, below the
-- gateway-wide [presence] max_users_per_document.
--
-- Hook:      capacity(doc) -> integer | nil
-- Config:    [plugins.config.workspace-capacity]
--            limits = { acme = 50, globex = 10 }     -- optional; overrides the table below
-- Scope:     the example workspaces "acme" and "globex" only.

local plugin = {
  name = "workspace-capacity",
  priority = 100,
  workspaces = { "acme", "globex" },
}

local default_limits = {
  acme = 50,
  globex = 10,
}

function plugin.capacity(doc)
  local limits = (plugin.config and plugin.config.limits) or default_limits
  local limit = limits[doc.workspace_id]
  if math.type(limit) == "integer" and limit >= 0 then
    return limit
  end
  -- No limit for this workspace: nil leaves the gateway's default in place.
  return nil
end

return plugin
