-- KEYS and ARGV: see the Swift method that runs it, in Store/JobStore+DeadSet.swift; dead.lua is put before it.
return dead_trim(KEYS[1], KEYS[2], tonumber(ARGV[1]) - tonumber(ARGV[2]), tonumber(ARGV[3]))
