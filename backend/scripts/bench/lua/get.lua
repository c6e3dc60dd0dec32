-- A fixed GET (the URL and headers come from the wrk command line).
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
