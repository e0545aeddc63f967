-- brand-palette: gives the users of a document colours from a brand palette instead of the
-- default hsl() colour, and avoids a colour that another user in the document already has.
--
-- Hook:      color(user, doc) -> string | nil
-- Config:    [plugins.config.brand-palette]
--            colors = ["#e6194b", "#3cb44b", "#4363d8"]   -- optional; the list below is the default
-- Scope:     the example workspaces "acme" and "globex" only, so loading it changes nothing else.

local plugin = {
  name = "brand-palette",
  priority = 100,
  workspaces = { "acme", "globex" },
}

local default_palette = {
  "#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4",
  "#42d4f4", "#f032e6", "#469990", "#9a6324", "#800000",
}

-- The palette from the config when it lists at least one colour, else the default.
local function palette()
  local colors = plugin.config and plugin.config.colors
  if colors and #colors > 0 then
    return colors
  end
  return default_palette
end

function plugin.color(user, doc)
  local colors = palette()

  local used = {}
  for _, color in ipairs(doc.colors_in_use) do
    used[color] = true
  end

  -- Start at a position that depends on the user, so a user tends to keep the same colour
  -- across documents, then take the first colour nobody in the document has.
  local start = gateway.seahash(user.user_id, #colors)
  for step = 0, #colors - 1 do
    local color = colors[(start + step) % #colors + 1]
    if not used[color] then
      return color
    end
  end

  -- Every palette colour is taken: share the user's own, rather than fall back to hsl().
  return colors[start + 1]
end

return plugin
