-- who_whisper.lua: two chat commands.
--   /who            lists the players online (on this node)
--   /w NAME text    whispers text to one player; nobody else sees it
-- A command is answered to its sender alone and never relayed: the chat hook returns false.

cmmo.on("chat", function(player, text)
  if text == "/who" then
    local names = {}
    for _, p in ipairs(cmmo.players()) do
      names[#names + 1] = p.name
    end
    table.sort(names)
    player:tell(#names .. " online: " .. table.concat(names, ", "))
    return false
  end

  local name, message = text:match("^/w%s+(%S+)%s+(.+)$")
  if name then
    local to = cmmo.player(name)
    if to then
      to:tell(player.name .. " whispers: " .. message)
      player:tell("to " .. to.name .. ": " .. message)
    else
      player:tell(name .. " is not online")
    end
    return false
  end
  if text:sub(1, 2) == "/w" then
    player:tell("usage: /w NAME text")
    return false
  end
end)
