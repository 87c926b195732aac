"""Ray metrics (exported through Ray's metrics agent) for the farm's workers and scheduler."""

from __future__ import annotations

from ray.util.metrics import Counter, Gauge, Histogram

_MS_BUCKETS = [0.5, 1, 2, 5, 10, 20, 50, 100, 250, 500, 1000, 5000]


class WorkerMetrics:
    def __init__(self, worker_id: str):
        tags = {"worker": worker_id}
        self.resets = Counter("awm_ray_resets", "Slot resets (verified or not).", tag_keys=("worker",))
        self.quarantined = Counter("awm_ray_slots_quarantined", "Slots that failed reset verification.", tag_keys=("worker",))
        self.reset_ms = Histogram("awm_ray_reset_ms", "Reset + verification latency (ms).", _MS_BUCKETS, tag_keys=("worker",))
        self.call_ms = Histogram("awm_ray_call_ms", "Tool call latency inside the worker (ms).", _MS_BUCKETS, tag_keys=("worker",))
        self.slot_restarts = Counter("awm_ray_slot_restarts", "Slots replaced because their server died.", tag_keys=("worker",))
        self.leases_lost = Counter("awm_ray_leases_lost", "Leases ended by expiry or a dead server.", tag_keys=("worker",))
        self.slots = Gauge("awm_ray_slots", "Slots held by the worker.", tag_keys=("worker",))
        for metric in (self.resets, self.quarantined, self.reset_ms, self.call_ms, self.slot_restarts, self.leases_lost, self.slots):
            metric.set_default_tags(tags)


class SchedulerMetrics:
    def __init__(self) -> None:
        self.leases = Counter("awm_ray_leases_granted", "Leases granted.")
        self.lease_ms = Histogram("awm_ray_lease_ms", "Time from lease request to grant (ms).", _MS_BUCKETS)
        self.queue_depth = Gauge("awm_ray_queue_depth", "Lease requests waiting for a slot.")
        self.leases_lost = Counter("awm_ray_leases_lost_worker", "Leases lost with their worker or node.")
        self.workers = Gauge("awm_ray_workers", "Live worker actors.")
