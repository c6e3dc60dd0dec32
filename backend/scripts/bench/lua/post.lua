-- POST /todos/todos with a full JSON body.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"title":"Benchmark todo","description":"created by bench.sh",' ..
           '"priority":3,"due_date":"2031-06-15"}'
