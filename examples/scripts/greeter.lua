-- greeter.lua: an NPC that walks a loop around the square and greets everyone who arrives,
-- by name, remembering who has been here before (cmmo.store keeps it across restarts).

local guide = cmmo.spawn_npc{name = "Guide Ann", avatar = 3, x = 200, y = 200}

-- The corners of the loop; she walks at the players' speed (70 px/s), one side every 4 s.
local corners = { {200, 200}, {400, 200}, {400, 350}, {200, 350} }
local corner = 1
cmmo.every(4, function()
  corner = corner % #corners + 1
  guide:walk_to(corners[corner][1], corners[corner][2])
end)

cmmo.on("login", function(player)
  local key = "greeter:seen:" .. player.name:lower()
  if cmmo.store.get(key) then
    guide:say("Welcome back, " .. player.name .. "!")
  else
    guide:say("Welcome, " .. player.name .. "! Click anywhere to walk.")
    cmmo.store.set(key, true)
  end
end)
