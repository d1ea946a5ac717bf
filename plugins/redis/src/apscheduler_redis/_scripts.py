"""The Lua scripts of :class:`~apscheduler_redis.datastore.RedisDataStore`.

Every operation that reads and then changes shared state is one script, so Redis runs it
atomically: no other scheduler can interleave. Scripts are registered with
``register_script`` and run with EVALSHA (reloaded automatically after a server restart).

Conventions:

* ``ARGV[1]`` is the key prefix, ``ARGV[2]`` is "now" in integer microseconds since the
  epoch, given by the caller's clock (never Redis ``TIME``), so tests can fake time.
* Times are integer microseconds, passed and returned as strings (never computed into
  new numbers here: Lua would print large numbers in exponent notation).
* The script never decodes documents; they are opaque strings built by Python.

Keys (``P`` = prefix):

=========================  ======  ==================================================
``P:tasks``                hash    task id → task document
``P:task_limit``           hash    task id → max_running_jobs (absent: unlimited)
``P:task_running``         hash    task id → running jobs (slots taken)
``P:sched``                hash    schedule id → schedule document (without trigger,
                                   fire times and lease)
``P:sched_task``           hash    schedule id → task id
``P:sched_trigger``        hash    schedule id → serialized trigger
``P:sched_times``          hash    schedule id → JSON ``[next_fire_time, last_fire_time]``
``P:sched_nft``            hash    schedule id → next fire time (µs); absent: exhausted
``P:sched_paused``         set     paused schedule ids
``P:sched_ready``          zset    unpaused, unleased schedules with a next fire time,
                                   scored by it
``P:sched_leased``         zset    leased schedules, scored by ``acquired_until``
                                   (kept after expiry until released or re-leased)
``P:sched_owner``          hash    schedule id → ``acquired_by``
``P:sched_token``          hash    schedule id → ``lease_token``
``P:sched_done``           set     schedules without a next fire time
``P:sched_jobs``           hash    schedule id → number of its jobs in the store
``P:job``                  hash    job id → job document (without lease)
``P:job_task``             hash    job id → task id
``P:job_sched``            hash    job id → schedule id
``P:job_member``           hash    job id → ``"<seq:016d>|<id>"`` (its member in zsets)
``P:job_all``              zset    every job, scored by ``created_at``, then by ``seq``
``P:job_queue``            zset    jobs waiting to be acquired (same ordering)
``P:job_park:<task>``      zset    waiting jobs of a task that had no free slot
``P:job_deadline``         zset    job id → start deadline
``P:job_leased``           zset    job id → ``acquired_until``
``P:job_owner``            hash    job id → ``acquired_by``
``P:job_token``            hash    job id → ``lease_token``
``P:job_slot``             set     leased jobs that hold one of their task's slots
``P:job_seq``              string  insertion counter
``P:result``               hash    job id → result document
``P:result_expiry``        zset    job id → ``expires_at``
=========================  ======  ==================================================
"""

from __future__ import annotations

COMMON = r"""
local P = ARGV[1]
local NOW = ARGV[2]
local NOW_N = tonumber(NOW)
local function k(name) return P .. ':' .. name end

local function free_slots(task)
  local limit = redis.call('HGET', k('task_limit'), task)
  if not limit then return -1 end
  local running = tonumber(redis.call('HGET', k('task_running'), task) or '0')
  local free = tonumber(limit) - running
  if free < 0 then return 0 end
  return free
end

-- Move as many parked jobs of a task back to the queue as it has free slots.
local function unpark(task)
  local park = k('job_park:' .. task)
  local free = free_slots(task)
  if free == 0 then return end
  local last = -1
  if free > 0 then last = free - 1 end
  local items = redis.call('ZRANGE', park, 0, last, 'WITHSCORES')
  for i = 1, #items, 2 do
    redis.call('ZADD', k('job_queue'), items[i + 1], items[i])
    redis.call('ZREM', park, items[i])
  end
end

local function insert_job(id, doc, task, created, deadline, sched)
  local seq = redis.call('INCR', k('job_seq'))
  local member = string.format('%016d', seq) .. '|' .. id
  redis.call('HSET', k('job'), id, doc)
  redis.call('HSET', k('job_task'), id, task)
  redis.call('HSET', k('job_member'), id, member)
  redis.call('ZADD', k('job_all'), created, member)
  redis.call('ZADD', k('job_queue'), created, member)
  if deadline ~= '' then redis.call('ZADD', k('job_deadline'), deadline, id) end
  if sched ~= '' then
    redis.call('HSET', k('job_sched'), id, sched)
    redis.call('HINCRBY', k('sched_jobs'), sched, 1)
  end
end

local function unqueue_job(id)
  local member = redis.call('HGET', k('job_member'), id)
  local task = redis.call('HGET', k('job_task'), id)
  if member then
    redis.call('ZREM', k('job_queue'), member)
    if task then redis.call('ZREM', k('job_park:' .. task), member) end
  end
end

-- Give back the task slot a job holds (it stopped running, or never will).
local function return_slot(id)
  if redis.call('SREM', k('job_slot'), id) == 1 then
    local task = redis.call('HGET', k('job_task'), id)
    if task then
      local running = redis.call('HINCRBY', k('task_running'), task, -1)
      if running <= 0 then redis.call('HDEL', k('task_running'), task) end
      unpark(task)
    end
  end
end

local function delete_job(id)
  unqueue_job(id)
  return_slot(id)
  local member = redis.call('HGET', k('job_member'), id)
  if member then redis.call('ZREM', k('job_all'), member) end
  redis.call('HDEL', k('job'), id)
  redis.call('HDEL', k('job_task'), id)
  redis.call('HDEL', k('job_member'), id)
  redis.call('HDEL', k('job_owner'), id)
  redis.call('HDEL', k('job_token'), id)
  redis.call('ZREM', k('job_deadline'), id)
  redis.call('ZREM', k('job_leased'), id)
  local sched = redis.call('HGET', k('job_sched'), id)
  if sched then
    redis.call('HDEL', k('job_sched'), id)
    if redis.call('HINCRBY', k('sched_jobs'), sched, -1) <= 0 then
      redis.call('HDEL', k('sched_jobs'), sched)
    end
  end
end

local function claim_job(id, owner, token, lease_until)
  redis.call('HSET', k('job_owner'), id, owner)
  redis.call('HSET', k('job_token'), id, token)
  redis.call('ZADD', k('job_leased'), lease_until, id)
end

-- Re-lease jobs to the caller so that it can release them as abandoned.
-- Appends {id, previous owner, document, task} to out.
local function claim_abandoned(ids, owner, token, lease_until, out)
  for _, id in ipairs(ids) do
    local previous = redis.call('HGET', k('job_owner'), id) or ''
    claim_job(id, owner, token, lease_until)
    return_slot(id)
    table.insert(out, {id, previous, redis.call('HGET', k('job'), id) or '',
                       redis.call('HGET', k('job_task'), id) or ''})
  end
end

local function is_paused(id)
  return redis.call('SISMEMBER', k('sched_paused'), id) == 1
end

local function delete_schedule(id)
  for _, name in ipairs({'sched', 'sched_task', 'sched_trigger', 'sched_times', 'sched_nft',
                         'sched_owner', 'sched_token'}) do
    redis.call('HDEL', k(name), id)
  end
  redis.call('SREM', k('sched_paused'), id)
  redis.call('SREM', k('sched_done'), id)
  redis.call('ZREM', k('sched_ready'), id)
  redis.call('ZREM', k('sched_leased'), id)
end

local function schedule_row(id)
  return {id, redis.call('HGET', k('sched'), id) or '',
          redis.call('HGET', k('sched_trigger'), id) or '',
          redis.call('HGET', k('sched_times'), id) or '',
          redis.call('HGET', k('sched_owner'), id) or '',
          redis.call('HGET', k('sched_token'), id) or '',
          redis.call('ZSCORE', k('sched_leased'), id) or ''}
end
"""

# --- tasks ---------------------------------------------------------------------------

ADD_TASK = r"""
-- ARGV[3..6]: id, document, max_running_jobs ('' = unlimited)
local id = ARGV[3]
local existed = redis.call('HEXISTS', k('tasks'), id)
redis.call('HSET', k('tasks'), id, ARGV[4])
if ARGV[5] == '' then
  redis.call('HDEL', k('task_limit'), id)
else
  redis.call('HSET', k('task_limit'), id, ARGV[5])
end
unpark(id)
return existed
"""

REMOVE_TASK = r"""
local id = ARGV[3]
local existed = redis.call('HDEL', k('tasks'), id)
if existed == 1 then
  redis.call('HDEL', k('task_limit'), id)
  redis.call('HDEL', k('task_running'), id)
  unpark(id)
end
return existed
"""

# --- schedules -----------------------------------------------------------------------

ADD_SCHEDULE = r"""
-- ARGV[3..]: id, task, document, trigger, times, nft ('' = none), paused ('1'/'0'),
-- policy, acquired_by, lease_token, acquired_until ('' = not leased)
local id, task, doc, trigger, times, nft = ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local paused, policy = ARGV[9] == '1', ARGV[10]
local owner, token, lease_until = ARGV[11], ARGV[12], ARGV[13]
local existed = redis.call('HEXISTS', k('sched'), id)
if existed == 1 and policy ~= 'replace' then return 'exists' end
delete_schedule(id)
redis.call('HSET', k('sched'), id, doc)
redis.call('HSET', k('sched_task'), id, task)
redis.call('HSET', k('sched_trigger'), id, trigger)
redis.call('HSET', k('sched_times'), id, times)
if paused then redis.call('SADD', k('sched_paused'), id) end
local leased = token ~= '' and lease_until ~= ''
if leased then
  redis.call('HSET', k('sched_owner'), id, owner)
  redis.call('HSET', k('sched_token'), id, token)
  redis.call('ZADD', k('sched_leased'), lease_until, id)
end
if nft == '' then
  redis.call('SADD', k('sched_done'), id)
else
  redis.call('HSET', k('sched_nft'), id, nft)
  if not paused and not leased then redis.call('ZADD', k('sched_ready'), nft, id) end
end
if existed == 1 then return 'replaced' end
return 'added'
"""

REMOVE_SCHEDULES = r"""
-- ARGV[3..]: schedule ids. Returns {id, task} for each schedule removed.
local removed = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  if redis.call('HEXISTS', k('sched'), id) == 1 then
    table.insert(removed, {id, redis.call('HGET', k('sched_task'), id) or ''})
    delete_schedule(id)
  end
end
return removed
"""

GET_SCHEDULES = r"""
-- ARGV[3]: '1' for all schedules, else ARGV[4..] are the ids
local ids
if ARGV[3] == '1' then
  ids = redis.call('HKEYS', k('sched'))
else
  ids = {}
  for i = 4, #ARGV do
    if redis.call('HEXISTS', k('sched'), ARGV[i]) == 1 then table.insert(ids, ARGV[i]) end
  end
end
local rows = {}
for _, id in ipairs(ids) do table.insert(rows, schedule_row(id)) end
return rows
"""

ACQUIRE_SCHEDULES = r"""
-- ARGV[3..6]: scheduler id, lease token, acquired_until, limit
local me, token, lease_until, limit = ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
local candidates = {}
local seen = {}
local ready = redis.call('ZRANGEBYSCORE', k('sched_ready'), '-inf', NOW, 'WITHSCORES',
                         'LIMIT', 0, limit)
for i = 1, #ready, 2 do
  table.insert(candidates, {ready[i], tonumber(ready[i + 1])})
  seen[ready[i]] = true
end
-- Leased schedules whose lease ran out, or that this scheduler already holds
local leased = redis.call('ZRANGE', k('sched_leased'), 0, -1, 'WITHSCORES')
for i = 1, #leased, 2 do
  local id = leased[i]
  if not seen[id] and (tonumber(leased[i + 1]) <= NOW_N
      or redis.call('HGET', k('sched_owner'), id) == me) and not is_paused(id) then
    local nft = redis.call('HGET', k('sched_nft'), id)
    if nft and tonumber(nft) <= NOW_N then
      table.insert(candidates, {id, tonumber(nft)})
      seen[id] = true
    end
  end
end
table.sort(candidates, function(a, b)
  if a[2] ~= b[2] then return a[2] < b[2] end
  return a[1] < b[1]
end)
local rows = {}
for i = 1, math.min(limit, #candidates) do
  local id = candidates[i][1]
  redis.call('ZREM', k('sched_ready'), id)
  redis.call('ZADD', k('sched_leased'), lease_until, id)
  redis.call('HSET', k('sched_owner'), id, me)
  redis.call('HSET', k('sched_token'), id, token)
  table.insert(rows, schedule_row(id))
end
return rows
"""

RELEASE_SCHEDULES = r"""
-- ARGV[3] = number of results; then per result: id, token, trigger, times, nft ('' =
-- exhausted), job count, and per job: id, document, task, created_at, start_deadline,
-- schedule id. Returns the ids whose release was refused.
local refused = {}
local pos = 4
for _ = 1, tonumber(ARGV[3]) do
  local id, token, trigger, times, nft = ARGV[pos], ARGV[pos + 1], ARGV[pos + 2],
                                         ARGV[pos + 3], ARGV[pos + 4]
  local njobs = tonumber(ARGV[pos + 5])
  pos = pos + 6
  local current = redis.call('HGET', k('sched_token'), id)
  if token == '' or current ~= token or redis.call('HEXISTS', k('sched'), id) == 0 then
    table.insert(refused, id)
    pos = pos + 6 * njobs
  else
    redis.call('HSET', k('sched_trigger'), id, trigger)
    redis.call('HSET', k('sched_times'), id, times)
    redis.call('ZREM', k('sched_leased'), id)
    redis.call('HDEL', k('sched_owner'), id)
    redis.call('HDEL', k('sched_token'), id)
    if nft == '' then
      redis.call('HDEL', k('sched_nft'), id)
      redis.call('ZREM', k('sched_ready'), id)
      redis.call('SADD', k('sched_done'), id)
    else
      redis.call('HSET', k('sched_nft'), id, nft)
      redis.call('SREM', k('sched_done'), id)
      if is_paused(id) then
        redis.call('ZREM', k('sched_ready'), id)
      else
        redis.call('ZADD', k('sched_ready'), nft, id)
      end
    end
    for _ = 1, njobs do
      if redis.call('HEXISTS', k('job'), ARGV[pos]) == 0 then
        insert_job(ARGV[pos], ARGV[pos + 1], ARGV[pos + 2], ARGV[pos + 3], ARGV[pos + 4],
                   ARGV[pos + 5])
      end
      pos = pos + 6
    end
  end
end
return refused
"""

NEXT_SCHEDULE_RUN_TIME = r"""
local best = nil
local best_n = nil
local first = redis.call('ZRANGE', k('sched_ready'), 0, 0, 'WITHSCORES')
if #first > 0 then
  best = redis.call('HGET', k('sched_nft'), first[1]) or first[2]
  best_n = tonumber(best)
end
local expired = redis.call('ZRANGEBYSCORE', k('sched_leased'), '-inf', NOW)
for _, id in ipairs(expired) do
  local nft = redis.call('HGET', k('sched_nft'), id)
  if nft and not is_paused(id) and (best_n == nil or tonumber(nft) < best_n) then
    best = nft
    best_n = tonumber(nft)
  end
end
return best
"""

EXTEND_SCHEDULE_LEASES = r"""
-- ARGV[3..]: scheduler id, acquired_until, schedule ids
local me, lease_until = ARGV[3], ARGV[4]
for i = 5, #ARGV do
  local id = ARGV[i]
  if redis.call('HGET', k('sched_owner'), id) == me
      and redis.call('HEXISTS', k('sched_token'), id) == 1 then
    redis.call('ZADD', k('sched_leased'), lease_until, id)
  end
end
return 0
"""

# --- jobs ----------------------------------------------------------------------------

ADD_JOBS = r"""
-- ARGV[3..]: per job: id, document, task, created_at, start_deadline, schedule id.
-- Returns the id of an existing job (and adds nothing), or ''.
for pos = 3, #ARGV, 6 do
  if redis.call('HEXISTS', k('job'), ARGV[pos]) == 1 then return ARGV[pos] end
end
for pos = 3, #ARGV, 6 do
  insert_job(ARGV[pos], ARGV[pos + 1], ARGV[pos + 2], ARGV[pos + 3], ARGV[pos + 4],
             ARGV[pos + 5])
end
return ''
"""

GET_JOBS = r"""
-- ARGV[3]: '1' for all jobs, else ARGV[4..] are the ids.
-- Returns {id, document, owner, token, acquired_until, created score, member}.
local ids
if ARGV[3] == '1' then
  ids = {}
  for _, member in ipairs(redis.call('ZRANGE', k('job_all'), 0, -1)) do
    table.insert(ids, string.sub(member, 18))
  end
else
  ids = {}
  for i = 4, #ARGV do table.insert(ids, ARGV[i]) end
end
local rows = {}
for _, id in ipairs(ids) do
  local member = redis.call('HGET', k('job_member'), id)
  if member then
    table.insert(rows, {id, redis.call('HGET', k('job'), id) or '',
                        redis.call('HGET', k('job_owner'), id) or '',
                        redis.call('HGET', k('job_token'), id) or '',
                        redis.call('ZSCORE', k('job_leased'), id) or '',
                        redis.call('ZSCORE', k('job_all'), member) or '0', member})
  end
end
return rows
"""

REMOVE_JOBS = r"""
-- ARGV[3..]: job ids. Removes those not acquired; returns {id, task} for each.
local removed = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  if redis.call('HEXISTS', k('job'), id) == 1
      and redis.call('HEXISTS', k('job_owner'), id) == 0 then
    table.insert(removed, {id, redis.call('HGET', k('job_task'), id) or ''})
    delete_job(id)
  end
end
return removed
"""

ACQUIRE_JOBS = r"""
-- ARGV[3..6]: scheduler id, lease token, acquired_until, limit (-1 = no limit).
-- Returns {abandoned, missed, acquired}; each a list of {id, owner, document, task}.
local me, token, lease_until, limit = ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
local abandoned, missed, acquired = {}, {}, {}

-- Jobs whose lease ran out are handed to the caller to be released as abandoned
claim_abandoned(redis.call('ZRANGEBYSCORE', k('job_leased'), '-inf', NOW), me, token, lease_until,
                abandoned)

-- Waiting jobs past their start deadline are handed over to be released as missed
for _, id in ipairs(redis.call('ZRANGEBYSCORE', k('job_deadline'), '-inf', '(' .. NOW)) do
  if redis.call('HEXISTS', k('job_owner'), id) == 0 then
    unqueue_job(id)
    claim_job(id, me, token, lease_until)
    table.insert(missed, {id, me, redis.call('HGET', k('job'), id) or '',
                          redis.call('HGET', k('job_task'), id) or ''})
  end
end

-- Runnable jobs, oldest first; jobs of a task with no free slot are parked
local slots = {}
local queue = k('job_queue')
while limit < 0 or #acquired < limit do
  local batch = redis.call('ZRANGE', queue, 0, 99, 'WITHSCORES')
  if #batch == 0 then break end
  for i = 1, #batch, 2 do
    if limit >= 0 and #acquired >= limit then break end
    local member, score = batch[i], batch[i + 1]
    local id = string.sub(member, 18)
    local task = redis.call('HGET', k('job_task'), id) or ''
    local free = slots[task]
    if free == nil then free = free_slots(task) end
    redis.call('ZREM', queue, member)
    if free == 0 then
      redis.call('ZADD', k('job_park:' .. task), score, member)
    else
      claim_job(id, me, token, lease_until)
      redis.call('SADD', k('job_slot'), id)
      redis.call('HINCRBY', k('task_running'), task, 1)
      if free > 0 then free = free - 1 end
      table.insert(acquired, {id, me, redis.call('HGET', k('job'), id) or '', task})
    end
    slots[task] = free
  end
end
return {abandoned, missed, acquired}
"""

RELEASE_JOBS = r"""
-- ARGV[3..]: per job: id, lease token, result document ('' = not kept), expires_at.
-- Returns the ids whose release was refused.
local refused = {}
for pos = 3, #ARGV, 4 do
  local id, token, result, expires = ARGV[pos], ARGV[pos + 1], ARGV[pos + 2], ARGV[pos + 3]
  local current = redis.call('HGET', k('job_token'), id)
  if token == '' or current ~= token then
    table.insert(refused, id)
  else
    delete_job(id)
    if result ~= '' then
      redis.call('HSET', k('result'), id, result)
      redis.call('ZADD', k('result_expiry'), expires, id)
    end
  end
end
return refused
"""

EXTEND_JOB_LEASES = r"""
-- ARGV[3..]: scheduler id, acquired_until, job ids
local me, lease_until = ARGV[3], ARGV[4]
for i = 5, #ARGV do
  local id = ARGV[i]
  if redis.call('HGET', k('job_owner'), id) == me then
    redis.call('ZADD', k('job_leased'), lease_until, id)
  end
end
return 0
"""

CLAIM_OWN_JOBS = r"""
-- ARGV[3..5]: scheduler id, new token, acquired_until. Re-leases every job held by the
-- scheduler id (left over from a previous run), to be released as abandoned.
local me, token, lease_until = ARGV[3], ARGV[4], ARGV[5]
local ids = {}
for _, id in ipairs(redis.call('ZRANGE', k('job_leased'), 0, -1)) do
  if redis.call('HGET', k('job_owner'), id) == me then table.insert(ids, id) end
end
local out = {}
claim_abandoned(ids, me, token, lease_until, out)
return out
"""

CLEANUP_EXPIRED = r"""
-- ARGV[3..5]: claimant id, token, acquired_until. Purges expired results and claims jobs
-- whose lease ran out (to be released as abandoned).
for _, id in ipairs(redis.call('ZRANGEBYSCORE', k('result_expiry'), '-inf', NOW)) do
  redis.call('HDEL', k('result'), id)
  redis.call('ZREM', k('result_expiry'), id)
end
local out = {}
claim_abandoned(redis.call('ZRANGEBYSCORE', k('job_leased'), '-inf', NOW), ARGV[3], ARGV[4],
                ARGV[5], out)
return out
"""

CLEANUP_FINISHED_SCHEDULES = r"""
-- Deletes exhausted schedules that have no jobs left; returns {id, task} for each.
local removed = {}
for _, id in ipairs(redis.call('SMEMBERS', k('sched_done'))) do
  if redis.call('HEXISTS', k('sched'), id) == 0 then
    redis.call('SREM', k('sched_done'), id)
  elseif tonumber(redis.call('HGET', k('sched_jobs'), id) or '0') <= 0 then
    table.insert(removed, {id, redis.call('HGET', k('sched_task'), id) or ''})
    delete_schedule(id)
  end
end
return removed
"""

SCRIPTS: dict[str, str] = {
    name: COMMON + body
    for name, body in {
        "add_task": ADD_TASK,
        "remove_task": REMOVE_TASK,
        "add_schedule": ADD_SCHEDULE,
        "remove_schedules": REMOVE_SCHEDULES,
        "get_schedules": GET_SCHEDULES,
        "acquire_schedules": ACQUIRE_SCHEDULES,
        "release_schedules": RELEASE_SCHEDULES,
        "next_schedule_run_time": NEXT_SCHEDULE_RUN_TIME,
        "extend_schedule_leases": EXTEND_SCHEDULE_LEASES,
        "add_jobs": ADD_JOBS,
        "get_jobs": GET_JOBS,
        "remove_jobs": REMOVE_JOBS,
        "acquire_jobs": ACQUIRE_JOBS,
        "release_jobs": RELEASE_JOBS,
        "extend_job_leases": EXTEND_JOB_LEASES,
        "claim_own_jobs": CLAIM_OWN_JOBS,
        "cleanup_expired": CLEANUP_EXPIRED,
        "cleanup_finished_schedules": CLEANUP_FINISHED_SCHEDULES,
    }.items()
}
