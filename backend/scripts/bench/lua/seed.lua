-- Seeding: POST exactly BENCH_SEED_TOTAL todos, split over the wrk threads, then stop.
-- Once a thread has sent its share it sends GET /health on its other connections until
-- the last of its POSTs is answered (201), then stops itself; if no 201 has come for
-- 3 s by then (a POST failed), it stops anyway. wrk ends when wrk.py sends it SIGINT;
-- seeding.py checks the resulting count through the API and tops up any shortfall.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local quota, sent, threads, calls, last_created
local stopped = false
created = 0  -- global: done() reads it from every thread
local headers = {}

function init(args)
   local total = tonumber(os.getenv("BENCH_SEED_TOTAL"))
   threads = tonumber(os.getenv("BENCH_SEED_THREADS"))
   quota = math.floor(total / threads)
   if thread_number < total % threads then
      quota = quota + 1
   end
   sent, calls, last_created = 0, 0, os.time()
   for name, value in pairs(wrk.headers) do
      headers[name] = value
   end
   headers["Content-Type"] = "application/json"
end

local function filler()
   return wrk.format("GET", "/health")
end

function request()
   calls = calls + 1
   -- wrk 4.x calls request() once on thread 0 before the run, to check it, and throws
   -- the result away: make that one a filler so no POST is lost.
   if thread_number == 0 and calls == 1 then
      return filler()
   end
   if sent < quota then
      local n = thread_number + sent * threads
      sent = sent + 1
      local due = "null"
      if n % 3 ~= 0 then
         due = string.format('"20%02d-%02d-%02d"', 30 + n % 5, n % 12 + 1, n % 28 + 1)
      end
      local body = string.format(
         '{"title":"B todo number %d","description":"Seeded by bench.sh: todo %d of user B, ' ..
         'with a sentence of text.","priority":%d,"due_date":%s}', n, n, n % 5 + 1, due)
      return wrk.format("POST", "/todos/todos", headers, body)
   end
   return filler()
end

function response(status, headers, body)
   if status == 201 then
      created = created + 1
      last_created = os.time()
   end
   if not stopped and (created >= quota or (sent >= quota and os.time() - last_created >= 3)) then
      -- wrk itself only ends after -d or on SIGINT: wrk.py sends that once every
      -- thread has said it is done.
      stopped = true
      io.stderr:write("BENCH_SEED_THREAD_DONE\n")
      io.stderr:flush()
      wrk.thread:stop()
   end
end

local report = done
function done(summary, latency, requests)
   local total = 0
   for _, thread in ipairs(bench_threads) do
      total = total + (thread:get("created") or 0)
   end
   io.write(string.format("BENCH_SEED_CREATED %d\n", total))
   report(summary, latency, requests)
end
