package org.gantry.protocol;

/**
 * Request on {@code $aws/things/T/jobs/{jobId}/get}: describe one execution ({@code jobId} may be
 * {@code $next}).
 *
 * @param executionNumber which execution; null for the latest
 * @param includeJobDocument whether the answer carries the document; null to omit (service default:
 *     true)
 * @param clientToken echoed in the answer; null to omit
 */
public record DescribeRequest(
    Long executionNumber, Boolean includeJobDocument, String clientToken) {}
