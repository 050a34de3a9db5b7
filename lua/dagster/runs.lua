-- Runs: wait_for_run, get_run, runs, events, reexecute, wait_for_runs (added to the client).
return function(Client)
end
