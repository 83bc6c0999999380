# ruby enqueue.rb N SECONDS: N SlowJobs of SECONDS each, ids 0..N-1.
require_relative "worker"
n, seconds = ARGV.map(&:to_i)
n.times { |i| SlowJob.perform_async(i, seconds) }
