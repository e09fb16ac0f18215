package org.gantry.protocol;

/**
 * Answer on {@code .../jobs/{jobId}/update/accepted}.
 *
 * @param executionState present only when the request asked for it; else null
 * @param jobDocument raw JSON text, present only when the request asked for it; else null
 * @param timestamp epoch seconds
 * @param clientToken the request's token; null when absent
 */
public record UpdateAccepted(
    JobExecutionState executionState, String jobDocument, long timestamp, String clientToken) {}
