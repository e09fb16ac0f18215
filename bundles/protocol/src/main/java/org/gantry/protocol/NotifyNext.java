package org.gantry.protocol;

/**
 * Notification on {@code $aws/things/T/jobs/notify-next}: the head of the queue changed.
 *
 * @param timestamp epoch seconds
 * @param execution the new head; null when the queue became empty
 */
public record NotifyNext(long timestamp, JobExecution execution) {}
