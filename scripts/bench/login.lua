-- wrk: POST /api/v1/auth/login for one account (argon2id verification on every request),
-- for scripts/bench-writes.sh. Prints percentiles.lua's RESULT line.
--   wrk ... -s scripts/bench/login.lua URL -- EMAIL PASSWORD
dofile("scripts/bench/percentiles.lua")

function init(args)
  local email, password = args[1], args[2]
  if not email or not password then
    error("usage: wrk ... -s login.lua URL -- EMAIL PASSWORD")
  end
  wrk.method = "POST"
  wrk.path = "/api/v1/auth/login"
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = string.format('{"email":"%s","password":"%s"}', email, password)
end
