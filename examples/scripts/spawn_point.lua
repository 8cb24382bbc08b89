-- spawn_point.lua: new players start in the middle of the map instead of its top-left corner.
-- A player's first login puts them at the spawn point; later logins resume where they left
-- (the server saves positions). /spawn takes anyone back.

local width, height = cmmo.world_size()
local SPAWN_X, SPAWN_Y = math.floor(width / 2), math.floor(height / 2)

cmmo.on("login", function(player)
  local key = "spawn:placed:" .. player.name:lower()
  if not cmmo.store.get(key) then
    player:teleport(SPAWN_X, SPAWN_Y)
    cmmo.store.set(key, true)
  end
end)

cmmo.on("chat", function(player, text)
  if text == "/spawn" then
    player:teleport(SPAWN_X, SPAWN_Y)
    return false
  end
end)
