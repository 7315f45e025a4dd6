-- wrk: the authenticated write mix of scripts/bench-writes.sh. Every connection's
-- requests come from its thread's cycle of six, each one valid whatever the order in
-- which the answers come back:
--   1. POST   /api/v1/assets/{id}/comments   {"body": "<unique>"}          → 201
--   2. POST   /api/v1/creators/{id}/follow                                  → 200 (idempotent)
--   3. PUT    /api/v1/creators/me            {"bio": "<unique>"}           → 200
--   4. DELETE /api/v1/creators/{id}/follow                                  → 200 (idempotent)
--   5. PATCH  /api/v1/assets/{id}            {"description": "<unique>"}   → 200 (owner)
--   6. DELETE /api/v1/comments/{id}          a comment this thread posted  → 204
--      (a comment is posted instead while the thread has none to delete yet)
-- The comments and edits go round the seed assets, the follows round the target creators.
--   wrk ... -s scripts/bench/writes.lua URL -- TOKEN ASSET_IDS TARGET_IDS RUN
-- (ids comma-separated; RUN, a label unique to this wrk run, keeps the bodies unique
-- across runs: the warm-up's comments would otherwise be `duplicate_comment`s). Prints percentiles.lua's RESULT line, then MIX (requests sent by
-- kind), STATUS (answers by status) and PROBLEMS (the `code` of every non-2xx answer).

dofile("scripts/bench/percentiles.lua")
local result = done

local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

local function split(text)
  local out = {}
  for item in string.gmatch(text or "", "[^,]+") do table.insert(out, item) end
  return out
end

local token, assets, targets, run
local json_headers, bare_headers
local step, serial = 0, 0
local pending = {} -- ids of comments this thread posted and has not deleted yet
mix = {}
statuses = {}
problems = {}

function init(args)
  token, assets, targets, run = args[1], split(args[2]), split(args[3]), args[4]
  if not token or #assets == 0 or #targets == 0 or not run then
    error("usage: wrk ... -s writes.lua URL -- TOKEN ASSET_IDS TARGET_IDS RUN")
  end
  local host = wrk.host .. ":" .. wrk.port
  json_headers = { ["Host"] = host, ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
  bare_headers = { ["Host"] = host, ["Authorization"] = "Bearer " .. token }
end

local function count(kind)
  mix[kind] = (mix[kind] or 0) + 1
end

local function unique()
  serial = serial + 1
  return string.format("%s-t%d-%d", run, tid or 0, serial)
end

local function comment(asset)
  count("comment")
  return wrk.format("POST", "/api/v1/assets/" .. asset .. "/comments", json_headers,
    '{"body":"bench comment ' .. unique() .. '"}')
end

function request()
  step = step + 1
  local slot = (step - 1) % 6
  local round = math.floor((step - 1) / 6)
  local asset = assets[round % #assets + 1]
  local target = targets[round % #targets + 1]
  if slot == 0 then
    return comment(asset)
  elseif slot == 1 then
    count("follow")
    return wrk.format("POST", "/api/v1/creators/" .. target .. "/follow", bare_headers)
  elseif slot == 2 then
    count("profile")
    return wrk.format("PUT", "/api/v1/creators/me", json_headers, '{"bio":"bench bio ' .. unique() .. '"}')
  elseif slot == 3 then
    count("unfollow")
    return wrk.format("DELETE", "/api/v1/creators/" .. target .. "/follow", bare_headers)
  elseif slot == 4 then
    count("asset_edit")
    return wrk.format("PATCH", "/api/v1/assets/" .. asset, json_headers,
      '{"description":"bench description ' .. unique() .. '"}')
  end
  local id = table.remove(pending)
  if id then
    count("comment_delete")
    return wrk.format("DELETE", "/api/v1/comments/" .. id, bare_headers)
  end
  return comment(asset)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 201 then
    -- Only comments answer 201 here; the body starts with the comment's id.
    local id = body and string.match(body, '"id"%s*:%s*"([^"]+)"')
    if id then table.insert(pending, id) end
  elseif status >= 300 then
    local code = body and string.match(body, '"code"%s*:%s*"([^"]+)"') or "none"
    local key = status .. ":" .. code
    problems[key] = (problems[key] or 0) + 1
  end
end

local function merged(name)
  local total = {}
  for _, thread in ipairs(threads) do
    for key, value in pairs(thread:get(name) or {}) do
      total[key] = (total[key] or 0) + value
    end
  end
  local keys = {}
  for key in pairs(total) do table.insert(keys, key) end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local parts = {}
  for _, key in ipairs(keys) do table.insert(parts, key .. "=" .. total[key]) end
  return #parts > 0 and table.concat(parts, ",") or "-"
end

done = function(summary, latency, requests)
  result(summary, latency, requests)
  io.write("MIX " .. merged("mix") .. "\n")
  io.write("STATUS " .. merged("statuses") .. "\n")
  io.write("PROBLEMS " .. merged("problems") .. "\n")
end
