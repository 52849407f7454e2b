"""Django's Redis cache, with one Redis client per connection pool instead of one per operation.

Django's backend builds a new `redis.Redis` for every cache call, and building one (it copies the
client's table of response callbacks) costs more than the round trip to Redis it then makes. A
client holds nothing of its own but its pool, which hands out connections safely across threads
and forks, so one client per pool serves every call of the process.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class SharedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}  # {id(pool): client}; pools live as long as this object

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient
