-- PUT /todos/todo/{id} with a full body, rotating over BENCH_IDS; the body changes
-- with every request so each one is a real update.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local ids, i
local headers = {}

function init(args)
   -- wrk.format() ignores wrk.headers once given a table: carry over the -H headers.
   for name, value in pairs(wrk.headers) do
      headers[name] = value
   end
   headers["Content-Type"] = "application/json"
   ids = bench_ids()
   i = (thread_number or 0) * 17
end

function request()
   i = i + 1
   local body = string.format(
      '{"title":"Updated todo %d","description":"updated by bench.sh","priority":%d,' ..
      '"complete":%s,"due_date":"2031-%02d-%02d"}',
      i, (i % 5) + 1, (i % 2 == 0) and "true" or "false", (i % 12) + 1, (i % 28) + 1)
   return wrk.format("PUT", "/todos/todo/" .. ids[(i % #ids) + 1], headers, body)
end
