# A Sidekiq job for integration/real/suite.sh: records start and end in
# Redis (db 1), so a job pushed back at a stop and run again is counted.
require "sidekiq"

# Debian's redis gem (4.8) warns at every fetch about Sidekiq 6.4's calls.
Redis.silence_deprecations = true if Redis.respond_to?(:silence_deprecations=)

Sidekiq.configure_server { |c| c.redis = { url: "redis://127.0.0.1:6379/0" } }
Sidekiq.configure_client { |c| c.redis = { url: "redis://127.0.0.1:6379/0" } }

class SlowJob
  include Sidekiq::Worker
  sidekiq_options retry: false

  def perform(id, seconds)
    db = Redis.new(url: "redis://127.0.0.1:6379/1")
    db.rpush("sidekiq:started", id)
    sleep seconds
    db.rpush("sidekiq:done", id)
  end
end
