-- chat_filter.lua: keeps the chat friendly.
--   * words on the list are starred out, in any letter case ("Darn" -> "****")
--   * a line that only repeats the sender's previous line is dropped
--   * a long line in capitals is lowered (no shouting)

local words = { "darn", "heck", "frak" }

-- "darn" -> "[dD][aA][rR][nN]": Lua patterns have no case-insensitive flag.
local patterns = {}
for i, word in ipairs(words) do
  patterns[i] = word:gsub("%a", function(c) return "[" .. c:lower() .. c:upper() .. "]" end)
end

local last = {} -- player id -> their previous line

cmmo.on("chat", function(player, text)
  if last[player.id] == text then
    return false
  end
  last[player.id] = text
  local out = text
  for i, pattern in ipairs(patterns) do
    out = out:gsub(pattern, string.rep("*", #words[i]))
  end
  if #out > 8 and out == out:upper() and out ~= out:lower() then
    out = out:lower()
  end
  if out ~= text then
    return out
  end
end)

cmmo.on("logout", function(player)
  last[player.id] = nil
end)
