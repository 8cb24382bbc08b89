-- teleport_pads.lua: walk onto a pad, appear at the other one.
-- Each pad is a square of 2 * RADIUS px; arriving players land beside the far pad (not on it),
-- so nobody bounces back and forth.

local RADIUS = 16
local pads = {
  { x = 100, y = 100, to_x = 1180, to_y = 700 },
  { x = 1240, y = 740, to_x = 160, to_y = 100 },
}

-- Checked ten times a second from the tick hook: a walking player moves 7 px in that time,
-- so nobody walks across a pad unseen.
local since = 0
cmmo.on("tick", function(dt)
  since = since + dt
  if since < 0.1 then return end
  since = 0
  for _, player in ipairs(cmmo.players()) do
    local x, y = player:position()
    for _, pad in ipairs(pads) do
      if math.abs(x - pad.x) <= RADIUS and math.abs(y - pad.y) <= RADIUS then
        player:teleport(pad.to_x, pad.to_y)
        player:tell("Whoosh!")
        break
      end
    end
  end
end)
