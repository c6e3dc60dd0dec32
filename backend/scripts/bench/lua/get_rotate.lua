-- GET /todos/{id}, rotating over BENCH_IDS.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local ids, i

function init(args)
   ids = bench_ids()
   i = (thread_number or 0) * 17
end

function request()
   i = i + 1
   return wrk.format("GET", "/todos/" .. ids[(i % #ids) + 1])
end
