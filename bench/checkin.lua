-- wrk script for bench/checkin.sh: every request is a device check-in with a token drawn at random from the file
-- given after `--`. The bare endpoint gets the very same requests (it ignores the token), so wrk does the same work
-- in both runs.
local counter = 0
local threads = {}

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

local tokens = {}

function init(args)
  local path = args[1] or error("usage: wrk ... -s checkin.lua URL -- TOKENS_FILE")
  for line in io.lines(path) do
    if #line > 0 then tokens[#tokens + 1] = "Device " .. line end
  end
  math.randomseed(os.time() * 1000 + id)
end

local body = '{"appliedSeq":1}'

function request()
  local headers = {
    ["Host"] = wrk.headers["Host"],
    ["Content-Type"] = "application/json",
    ["Authorization"] = tokens[math.random(#tokens)],
  }
  return wrk.format("POST", "/v1/device/checkin", headers, body)
end
