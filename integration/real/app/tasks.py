# Celery tasks for integration/real/suite.sh. Each task records its start
# and its end in Redis (on 127.0.0.1, shared network namespace), so the
# suite can tell a finished task from a lost one.
import time

import redis
from celery import Celery

app = Celery("tasks", broker="redis://127.0.0.1:6379/0")
app.conf.worker_hijack_root_logger = False
db = redis.Redis(host="127.0.0.1", port=6379, db=1)


@app.task
def slow(i, seconds):
    db.rpush("celery:started", i)
    time.sleep(seconds)
    db.rpush("celery:done", i)
