-- Run configs from the job's schema (added to the client).
--
--   client:scaffold_config(job [, opts]) -> the job's default config with every required
--       field that has no default present as a placeholder (Dagster UI's "scaffold missing
--       config"); opts.partition starts from that partition's config; opts.yaml = true
--       gives YAML text, each placeholder under a comment naming its type
--   client:edit_config(job [, config [, opts]]) -> the config $VISUAL or $EDITOR left, once
--       the server finds it valid; reopened with each error as a comment at its path until
--       it is valid, or raises the errors when it was left unchanged

local E = require "dagster.error"
local D = require "dagster.documents"
local T = require "dagster.configtype"
local sys = require "dagster.sys"
local file = require "dagster.file"
local yaml = require "dagster.yaml"
local check = require "dagster.check"

local fmt, concat = string.format, table.concat
local checktype, checkopts, options = check.type, check.opts, check.options

local M = {}

-- the job's selector, placed (its location and repository inferred when not both given)
local function selector_of(self, job, o)
  local sel = { pipelineName = job }
  self:_place(sel, job, { repository_location_name = o.location, repository_name = o.repository })
  return sel
end

-- client:_config_schema(selector [, call]) -> the job's schema (dagster.configtype.read)
function M:_config_schema(selector, call)
  return self:_query(D.config_schema, { selector = selector }, "DagsterLuaConfigSchema",
    function(d)
      return T.read(self:_member(d.runConfigSchemaOrError, "RunConfigSchema",
        "DagsterLuaConfigSchema"))
    end, call)
end

-- b over a, recursively for mappings (a partition's config over the job's defaults)
local function merge(a, b)
  if type(a) ~= "table" or type(b) ~= "table" or #b > 0 or #a > 0 then return b end
  for k, v in pairs(b) do a[k] = merge(a[k], v) end
  return a
end

local function decode(text, name)
  if text == nil or text:match("^%s*$") or text:match("^%s*{}%s*$") then return {} end
  local v = yaml.decode(text, name)
  return type(v) == "table" and v or {}
end

-- the scaffold of a job: config, schema, comments ({path -> lines}) for its YAML
local function scaffold(self, job, o, F)
  local sel = selector_of(self, job, o)
  local s = self:_config_schema(sel)
  local config = decode(s.default_yaml, "rootDefaultYaml")
  if o.partition ~= nil then
    checktype(o.partition, "string", 2, F, "partition")
    local p = self:_job_partition({ repositoryLocationName = sel.repositoryLocationName,
      repositoryName = sel.repositoryName, jobName = job }, o.partition)
    config = merge(config, decode(p.yaml, "partition " .. o.partition))
  end
  local _, filled = T.fill(s, config)
  local comments = {}
  for _, f in ipairs(filled) do
    local leaf = true
    for _, g in ipairs(filled) do
      if g.path:sub(1, #f.path + 1) == f.path .. "/" then leaf = false; break end
    end
    if leaf then
      comments[f.path] = { "required: " .. T.describe(s, f.type) .. ", no default: fill it in" }
    end
  end
  return config, sel, comments
end

local SCAFFOLD_OPTS = options("scaffold_config", { "partition", "yaml", "location", "repository" })

function M:scaffold_config(job, opts)
  local F = "scaffold_config"
  checktype(job, "string", 1, F)
  local o = checkopts(opts, 2, F, SCAFFOLD_OPTS)
  check.place(o, 2, F)
  local config, _, comments = scaffold(self, job, o, F)
  if o.yaml then return yaml.encode(config, comments) end
  return config
end

------------------------------------------------------------------------------------------
-- The editor
------------------------------------------------------------------------------------------

local function shell_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function spit(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local HEAD = "# %s: the run config of job %s (YAML). Save and quit to check it with the\n" ..
  "# server; quit without saving a change to give up.\n"

-- the lines this loop wrote (the lines of `head`, error comments), taken out of what it
-- reads back
local function strip(text, head)
  local ours, out = {}, {}
  for line in head:gmatch("(.-)\n") do ours[line] = true end
  for line in (text .. "\n"):gmatch("(.-)\n") do
    if not ours[line] and not line:find("^%s*# error: ") then out[#out + 1] = line end
  end
  return concat(out, "\n")
end

local EDIT_OPTS = options("edit_config", { "location", "repository", "partition" })

function M:edit_config(job, config, opts)
  local F = "edit_config"
  checktype(job, "string", 1, F)
  if config ~= nil and type(config) ~= "table" and type(config) ~= "string" then
    checktype(config, "table", 2, F)
  end
  local o = checkopts(opts, 3, F, EDIT_OPTS)
  check.place(o, 3, F)
  if not (sys.isatty(0) and sys.isatty(1)) then
    error(E.new("UnsupportedError", "edit_config needs a terminal for the editor " ..
      "(standard input and output are not both terminals)"), 2)
  end
  local editor = os.getenv("VISUAL")
  if editor == nil or editor == "" then editor = os.getenv("EDITOR") end
  if editor == nil or editor == "" then editor = "vi" end

  local text, comments
  if config == nil then
    local c, _
    c, _, comments = scaffold(self, job, o, F)
    text = yaml.encode(c, comments)
  elseif type(config) == "string" then
    text = config
  else
    text = yaml.encode(config)
  end
  local head = fmt(HEAD, F, job)
  local path = os.tmpname()       -- mode 0600: a config may hold secrets
  local ok, res = pcall(function()
    local shown = head .. text
    while true do
      spit(path, shown)
      local okx, how, code = os.execute(editor .. " " .. shell_quote(path))
      if not okx then
        error(E.new("EditorError", fmt("the editor (%s) %s %s", editor,
          how == "signal" and "was killed by signal" or "exited with status", tostring(code)),
          { editor = editor, status = code }), 0)
      end
      local saved, gone = file.read(path)
      if saved == nil then
        error(E.new("EditorError", fmt("the editor (%s) left nothing to read (%s)", editor, gone),
          { editor = editor }), 0)
      end
      local unchanged = saved == shown
      local body = strip(saved, head)
      local okd, value = pcall(decode, body, "edit_config")
      if not okd then
        if unchanged then error(value, 0) end
        shown = head .. "# error: " .. tostring(E.is(value) and value.message or value) .. "\n" .. body
      else
        local okv, err = pcall(self.validate_run_config, self, job, { run_config = value,
          repository_location_name = o.location, repository_name = o.repository })
        if okv then return value end
        if unchanged or not E.is(err, "RunConfigValidationInvalid") then error(err, 0) end
        local notes = {}
        for _, e in ipairs(err.body or {}) do
          local at = concat(e.config_path or {}, "/")
          notes[at] = notes[at] or {}
          table.insert(notes[at], "error: " .. tostring(e.message):gsub("\n", " "))
        end
        shown = head .. yaml.encode(value, notes)
      end
    end
  end)
  os.remove(path)
  if not ok then error(res, 0) end
  return res
end

return M
