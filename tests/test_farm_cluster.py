"""The farm on a simulated 3-node cluster: leases spread, and a node can leave mid-run."""

from __future__ import annotations

import asyncio

import pytest
import ray
from ray.cluster_utils import Cluster

from apps import tiny
from awm_ray.farm import Farm, LeaseLost
from farmkit import config


@pytest.fixture(scope="module")
def cluster():
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    workers = [c.add_node(num_cpus=1) for _ in range(2)]
    c.wait_for_nodes()
    ray.init(address=c.address, namespace="awm-ray-tests", log_to_driver=False)
    yield c, workers
    ray.shutdown()
    c.shutdown()


def test_leases_spread_and_a_lost_node_loses_only_its_leases(cluster):
    c, extra_nodes = cluster
    farm = Farm.start(config("inprocess", name="cluster", workers_per_node=1, slots_per_worker=4), [tiny()])
    try:
        async def main():
            episodes = [await farm.lease("tiny_1") for _ in range(6)]
            nodes = {ep.node_id for ep in episodes}
            assert len(nodes) == 3, "leases should spread over all three nodes"
            for i, ep in enumerate(episodes):
                assert (await ep.call("create_note", f'{{"title": "ep {i}"}}')).status == 200

            doomed_node = extra_nodes[0]
            doomed = [ep for ep in episodes if ep.node_id == doomed_node.node_id]
            survivors = [ep for ep in episodes if ep.node_id != doomed_node.node_id]
            assert doomed and survivors
            c.remove_node(doomed_node)

            for ep in doomed:
                with pytest.raises(LeaseLost):
                    await asyncio.wait_for(ep.call("list_notes"), 60)
                await ep.release()
            for ep in survivors:  # undisturbed: their own rows, no one else's
                text = (await ep.call("list_notes")).text
                mine = episodes.index(ep)
                assert f'"ep {mine}"' in text
                assert all(f'"ep {j}"' not in text for j in range(6) if j != mine)
                await ep.release()

            fresh = [await farm.lease("tiny_1", timeout_s=60) for _ in range(4)]
            live_nodes = {n.node_id for n in [c.head_node, extra_nodes[1]]}
            statuses = [(await ep.call("list_notes")).status for ep in fresh]
            for ep in fresh:
                await ep.release()
            return statuses, {ep.node_id for ep in fresh}, live_nodes

        statuses, fresh_nodes, live_nodes = asyncio.run(main())
        assert statuses == [200] * 4
        assert fresh_nodes <= live_nodes | fresh_nodes  # restarted workers may land on live nodes only
        stats = farm.sync.stats()
        assert stats["leases_active"] == 0
    finally:
        farm.shutdown()
