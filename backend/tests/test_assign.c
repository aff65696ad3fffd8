/* Unit tests for the routing policy: capacity, ties (least loaded, then
 * longest idle, then lowest id), away/offline/disconnected agents, team
 * scoping, queue order, and draining when capacity frees up. */
#include "chat/assign.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

static struct assign_agent agent(long long id, int open, int max, double last)
{
    struct assign_agent a = {
        .id = id, .open = open, .max_chats = max, .last_assigned_at = last, .online = 1, .connected = 1, .in_team = 1};
    return a;
}

static void test_fewest_open_wins(void **state)
{
    struct assign_agent a[] = {agent(1, 3, 5, 0), agent(2, 1, 5, 0), agent(3, 2, 5, 0)};
    (void)state;
    assert_int_equal(assign_pick_agent(a, 3), 1);
}

static void test_capacity_is_respected(void **state)
{
    struct assign_agent a[] = {agent(1, 5, 5, 0), agent(2, 2, 2, 0)};
    (void)state;
    assert_int_equal(assign_pick_agent(a, 2), -1);
    a[0].open = 4;
    assert_int_equal(assign_pick_agent(a, 2), 0);
    struct assign_agent zero[] = {agent(1, 0, 0, 0)}; /* max_chats 0 takes nothing */
    assert_int_equal(assign_pick_agent(zero, 1), -1);
}

static void test_ties_go_to_longest_idle_then_lowest_id(void **state)
{
    struct assign_agent a[] = {agent(1, 1, 5, 300), agent(2, 1, 5, 100), agent(3, 1, 5, 200)};
    struct assign_agent never[] = {agent(7, 1, 5, 100), agent(8, 1, 5, 0)};
    struct assign_agent same[] = {agent(9, 1, 5, 100), agent(4, 1, 5, 100)};
    (void)state;
    assert_int_equal(assign_pick_agent(a, 3), 1);
    assert_int_equal(assign_pick_agent(never, 2), 1); /* never assigned = idle longest */
    assert_int_equal(assign_pick_agent(same, 2), 1);  /* then the lowest id */
}

static void test_away_offline_disconnected_and_other_teams_get_none(void **state)
{
    struct assign_agent a[] = {agent(1, 0, 5, 0), agent(2, 0, 5, 0), agent(3, 0, 5, 0), agent(4, 3, 5, 0)};
    (void)state;
    a[0].online = 0;    /* away or offline */
    a[1].connected = 0; /* online but no live socket */
    a[2].in_team = 0;   /* another team's agent */
    assert_int_equal(assign_pick_agent(a, 4), 3);
    a[3].online = 0;
    assert_int_equal(assign_pick_agent(a, 4), -1);
}

static void test_plan_longest_waiting_first_and_spreads_load(void **state)
{
    struct assign_queued queue[] = {{.id = 10}, {.id = 11}, {.id = 12}, {.id = 13}, {.id = 14}}; /* oldest first */
    struct assign_agent a[] = {agent(1, 0, 2, 50), agent(2, 1, 3, 10)};
    struct assign_plan_item out[8];
    (void)state;
    size_t n = assign_plan(queue, 5, a, 2, 1000, out, 8);
    /* capacity: agent 1 takes 2, agent 2 takes 2 more: 4 of 5 */
    assert_int_equal(n, 4);
    assert_int_equal(out[0].conversation_id, 10);
    assert_int_equal(out[0].agent_id, 1); /* fewer open */
    assert_int_equal(out[1].conversation_id, 11);
    assert_int_equal(out[1].agent_id, 2); /* tie 1-1: agent 2 idle longer (10 < 1000) */
    assert_int_equal(out[2].agent_id, 1); /* 1 open against 2 */
    assert_int_equal(out[3].conversation_id, 13);
    assert_int_equal(a[0].open, 2);
    assert_int_equal(a[1].open, 3);
}

static void test_drain_when_capacity_frees(void **state)
{
    struct assign_queued queue[] = {{.id = 20}, {.id = 21}};
    struct assign_agent a[] = {agent(1, 2, 2, 0)};
    struct assign_plan_item out[4];
    (void)state;
    assert_int_equal(assign_plan(queue, 2, a, 1, 10, out, 4), 0);
    a[0].open = 1; /* one chat closed */
    assert_int_equal(assign_plan(queue, 2, a, 1, 10, out, 4), 1);
    assert_int_equal(out[0].conversation_id, 20); /* the longest waiting */
    a[0].max_chats = 5;                           /* capacity raised */
    assert_int_equal(assign_plan(queue + 1, 1, a, 1, 10, out, 4), 1);
    assert_int_equal(out[0].conversation_id, 21);
}

/* The router serves urgent before high before normal before low, and
 * within a priority the longest waiting first (ties: the lowest id). */
static void test_queue_order_priority_then_oldest(void **state)
{
    struct assign_queued q[] = {
        {.id = 1, .priority = 1, .queued_at = 100}, /* normal, oldest */
        {.id = 2, .priority = 0, .queued_at = 50},  /* low, older still */
        {.id = 3, .priority = 3, .queued_at = 400}, /* urgent, newest */
        {.id = 4, .priority = 2, .queued_at = 300}, /* high */
        {.id = 5, .priority = 2, .queued_at = 200}, /* high, older */
        {.id = 7, .priority = 1, .queued_at = 100}, /* normal, same time as 1 */
        {.id = 6, .priority = 1, .queued_at = 100},
    };
    long long want[] = {3, 5, 4, 1, 6, 7, 2};
    (void)state;
    assign_order_queue(q, 7);
    for (int i = 0; i < 7; i++)
        assert_int_equal(q[i].id, want[i]);

    /* Then the plan gives them out in that order. */
    struct assign_agent agents[] = {{.id = 9, .max_chats = 2, .online = 1, .connected = 1, .in_team = 1}};
    struct assign_plan_item plan[7];
    assert_int_equal(assign_plan(q, 7, agents, 1, 1000, plan, 7), 2);
    assert_int_equal(plan[0].conversation_id, 3);
    assert_int_equal(plan[1].conversation_id, 5);
}

/* A conversation an agent let wait unanswered is not offered to them
 * again: it goes to someone else, or waits, while the next one in line
 * may still go to that agent. */
static void test_plan_skips_who_declined(void **state)
{
    struct assign_agent a[] = {
        {.id = 1, .max_chats = 5, .online = 1, .connected = 1, .in_team = 1},
        {.id = 2, .max_chats = 5, .online = 1, .connected = 1, .in_team = 1, .open = 3},
    };
    struct assign_queued q[] = {{.id = 50, .declined = {1}, .ndeclined = 1}, {.id = 51}};
    struct assign_plan_item out[4];
    (void)state;
    /* Agent 1 is least loaded, but declined 50: it goes to agent 2. */
    assert_int_equal(assign_plan(q, 2, a, 2, 10, out, 4), 2);
    assert_int_equal(out[0].conversation_id, 50);
    assert_int_equal(out[0].agent_id, 2);
    assert_int_equal(out[1].conversation_id, 51);
    assert_int_equal(out[1].agent_id, 1);

    /* Only the one who declined is there: 50 waits, 51 is served. */
    struct assign_agent only[] = {{.id = 1, .max_chats = 5, .online = 1, .connected = 1, .in_team = 1}};
    assert_int_equal(assign_plan(q, 2, only, 1, 10, out, 4), 1);
    assert_int_equal(out[0].conversation_id, 51);
}

static void test_plan_bounded_by_output(void **state)
{
    struct assign_queued queue[] = {{.id = 1}, {.id = 2}, {.id = 3}};
    struct assign_agent a[] = {agent(1, 0, 10, 0)};
    struct assign_plan_item out[2];
    (void)state;
    assert_int_equal(assign_plan(queue, 3, a, 1, 1, out, 2), 2);
    assert_int_equal(assign_plan(queue, 3, a, 0, 1, out, 2), 0); /* nobody online */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fewest_open_wins),
        cmocka_unit_test(test_capacity_is_respected),
        cmocka_unit_test(test_ties_go_to_longest_idle_then_lowest_id),
        cmocka_unit_test(test_away_offline_disconnected_and_other_teams_get_none),
        cmocka_unit_test(test_plan_longest_waiting_first_and_spreads_load),
        cmocka_unit_test(test_drain_when_capacity_frees),
        cmocka_unit_test(test_plan_bounded_by_output),
        cmocka_unit_test(test_queue_order_priority_then_oldest),
        cmocka_unit_test(test_plan_skips_who_declined),
    };
    return cmocka_run_group_tests_name("assign", tests, NULL, NULL);
}
