package org.gantry.protocol;

/**
 * Answer on {@code .../jobs/start-next/accepted}.
 *
 * @param execution the execution now IN_PROGRESS; null when nothing is pending
 * @param timestamp epoch seconds
 * @param clientToken the request's token; null when absent
 */
public record StartNextAccepted(JobExecution execution, long timestamp, String clientToken) {}
