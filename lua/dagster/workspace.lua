-- The workspace: locations, repositories, jobs, assets, schedules and sensors (added to the client).
return function(Client)
end
