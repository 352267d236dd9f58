//! Behaviour at scale: allocations per request, replay guards (in memory, Redis, Redis
//! Cluster) under concurrent requests, the Redis client store, and hostile traffic under load.

mod alloc;
mod counting;
mod load;
mod redis_store;
mod replay;
mod replay_redis;
mod replay_redis_cluster;
