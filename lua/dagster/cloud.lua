-- dagster.cloud: where a client connects when nothing says it in the code, read as the
-- `dagster-cloud` CLI reads its login (dagster-cloud-cli 1.13, spec/support/CLOUD_NOTES.md).
--
--   cloud.settings([opts]) -> {url, token, organization, deployment, source, org_url, config}
--   cloud.client_from_env([opts]) -> client (dagster.client_from_env)
--
-- Precedence, as the CLI's: options first, then the environment, then the CLI's config file.
--   opts.url, or DAGSTER_URL when set (and no Dagster+ option is given): that server, with
--     the token of opts.token or DAGSTER_CLOUD_API_TOKEN when there is one;
--   else Dagster+: organization (opts.organization, DAGSTER_CLOUD_ORGANIZATION, the file's
--     organization), deployment (opts.deployment, DAGSTER_CLOUD_DEPLOYMENT, the file's
--     default_deployment), token (opts.token, DAGSTER_CLOUD_API_TOKEN, the file's user_token),
--     and the base: opts.region gives https://ORG.REGION.dagster.cloud, else
--     https://ORG.dagster.cloud; DAGSTER_CLOUD_URL (or the file's url) replaces it. A base
--     with a path names its deployment already (the CLI's DAGSTER_CLOUD_URL is
--     https://ORG.dagster.cloud/DEPLOYMENT): a deployment given as an option replaces that
--     last part. The GraphQL URL is BASE/DEPLOYMENT/graphql; the requests carry the token in
--     Dagster-Cloud-Api-Token and the deployment in Dagster-Cloud-Deployment, as the CLI's.
-- DAGSTER_LUA_CAINFO names a CA bundle when opts.cainfo does not (a gateway with a private CA).
-- The config file is $DAGSTER_CLOUD_CLI_CONFIG, else ~/.dagster_cloud_cli/config (YAML:
-- organization, default_deployment, user_token, url, agent_timeout); one that other users can
-- read gives a warning naming it (it holds a token). The token itself is never shown.

local E = require "dagster.error"
local check = require "dagster.check"
local file = require "dagster.file"
local json = require "dagster.json"

local fmt = string.format

local M = {}

local CONFIG_KEYS = { organization = true, default_deployment = true, user_token = true,
  url = true, agent_timeout = true }

-- an environment variable, nil when unset or empty
local function env(name)
  local v = os.getenv(name)
  if v ~= nil and v ~= "" then return v end
end

function M.config_path()
  return env("DAGSTER_CLOUD_CLI_CONFIG") or ((os.getenv("HOME") or ".") .. "/.dagster_cloud_cli/config")
end

local warned = {}

-- the CLI's config file as a table ({} when there is none); a file others can read warns,
-- one that cannot be read (a folder, no permission) is a ConfigurationError
function M.read_config(path)
  path = path or M.config_path()
  local text, err, missing = file.read(path)
  if missing then return {} end
  if not text then
    error(E.new("ConfigurationError", "the dagster-cloud config " .. err, { file = path }), 0)
  end
  local mode = file.mode(path)
  if mode and mode & 0x3f ~= 0 and not warned[path] then     -- 0077: group or others
    warned[path] = true
    io.stderr:write(fmt("dagster-lua: warning: %s can be read by other users, and it holds " ..
      "a token: chmod 600 %s\n", path, path))
  end
  local ok, doc = pcall(require("dagster.yaml").decode, text, path)
  if not ok then
    error(E.new("ConfigurationError", fmt("the dagster-cloud config %s: %s", path,
      E.is(doc) and doc.message or tostring(doc)), { file = path }), 0)
  end
  if doc == nil or doc == json.null then return {} end
  if type(doc) ~= "table" or json.is_array(doc) then
    error(E.new("ConfigurationError", fmt("the dagster-cloud config %s is not a mapping", path),
      { file = path }), 0)
  end
  local out = {}
  for k, v in pairs(doc) do
    if CONFIG_KEYS[k] and v ~= json.null then out[k] = tostring(v) end
  end
  return out
end

local SETTINGS_OPTS = { url = true, token = true, organization = true, deployment = true,
  region = true }

local FROM_ENV_OPTS = check.options("client_from_env", { "url", "token", "organization",
  "deployment", "region", "port_number", "use_https", "timeout", "attempt_timeout", "headers",
  "connect_timeout", "insecure", "cainfo", "max_response_bytes", "user_agent", "retries",
  "retry_delay", "retry_max_delay", "max_rps" })

-- cloud.settings([opts]) -> where to connect: {url =, token =, organization =, deployment =,
-- source = "url" | "DAGSTER_URL" | "dagster+", org_url = (Dagster+: the organization's
-- GraphQL URL)}; raises ConfigurationError when nothing says where
function M.settings(opts, fname)
  fname = fname or "client_from_env"
  local o = opts or {}
  for k in pairs(SETTINGS_OPTS) do
    if o[k] ~= nil then check.type(o[k], "string", 1, fname, k) end
  end
  local token = o.token or env("DAGSTER_CLOUD_API_TOKEN")
  if o.url then return { url = o.url, token = token, source = "url" } end
  local plus_asked = o.organization or o.deployment or o.region
  local dagster_url = env("DAGSTER_URL")
  if dagster_url and not plus_asked then
    return { url = dagster_url, token = token, source = "DAGSTER_URL" }
  end
  local config = M.read_config()
  local organization = o.organization or env("DAGSTER_CLOUD_ORGANIZATION") or config.organization
  local deployment = o.deployment or env("DAGSTER_CLOUD_DEPLOYMENT") or config.default_deployment
  token = token or config.user_token
  local base = env("DAGSTER_CLOUD_URL") or config.url
  if base and not o.region then
    base = base:gsub("/+$", "")
    local host, path = base:match("^(https?://[^/]+)(.*)$")
    if not host then
      error(E.new("ConfigurationError", fmt("DAGSTER_CLOUD_URL (or the config's url) is not " ..
        "an http(s) URL: %s", base)), 0)
    end
    if path ~= "" then                       -- https://ORG.dagster.cloud/DEPLOYMENT
      deployment = o.deployment or path:match("/([^/]+)$")
      base = host .. path:gsub("/[^/]+$", "")
    end
  elseif organization then
    base = o.region and fmt("https://%s.%s.dagster.cloud", organization, o.region)
      or fmt("https://%s.dagster.cloud", organization)
  end
  if base == nil then
    error(E.new("ConfigurationError", "no server: set DAGSTER_URL, or log in as the " ..
      "dagster-cloud CLI does (DAGSTER_CLOUD_ORGANIZATION, DAGSTER_CLOUD_DEPLOYMENT and " ..
      "DAGSTER_CLOUD_API_TOKEN, or `dagster-cloud config setup`)"), 0)
  end
  if deployment == nil then
    error(E.new("ConfigurationError", fmt("no Dagster+ deployment: pass deployment (--deployment " ..
      "NAME), or set DAGSTER_CLOUD_DEPLOYMENT or the config's default_deployment; " ..
      "client:deployments() lists them")), 0)
  end
  return { url = base .. "/" .. deployment .. "/graphql", token = token, source = "dagster+",
           organization = organization, deployment = deployment, org_url = base .. "/graphql" }
end

-- what a ConfigurationError names as the URL's origin
local WHERE = { DAGSTER_URL = "DAGSTER_URL", ["dagster+"] = "the Dagster+ URL" }

-- dagster.client_from_env([opts]) -> client: connected where cloud.settings says, with the
-- other options as dagster.client takes them; a URL from the environment that it does not
-- take is a ConfigurationError naming where it came from (source, reason)
function M.client_from_env(opts)
  local F = "client_from_env"
  local o = check.opts(opts, 1, F, FROM_ENV_OPTS)
  local s = M.settings(o, F)
  local copts = {}
  for k, v in pairs(o) do
    if not SETTINGS_OPTS[k] then copts[k] = v end
  end
  local headers = {}
  for k, v in pairs(copts.headers or {}) do headers[k] = v end
  if s.token and headers["Dagster-Cloud-Api-Token"] == nil then
    headers["Dagster-Cloud-Api-Token"] = s.token
  end
  if s.deployment and headers["Dagster-Cloud-Deployment"] == nil then
    headers["Dagster-Cloud-Deployment"] = s.deployment
  end
  copts.headers = next(headers) and headers or nil
  if copts.cainfo == nil then copts.cainfo = env("DAGSTER_LUA_CAINFO") end  -- a private CA
  -- a URL the client does not take: the caller's argument, or where the environment said it
  local why = check.url_problem(s.url)
  if why and s.source == "url" then check.argerror(1, F, "url: " .. why) end
  if why then
    error(E.new("ConfigurationError", fmt("%s %s: %s", WHERE[s.source], check.shown_url(s.url),
      why), { source = s.source, reason = why }), 0)
  end
  local c = require("dagster.client").new(s.url, copts)
  c.deployment, c.organization, c.org_url = s.deployment, s.organization, s.org_url
  return c
end

return M
