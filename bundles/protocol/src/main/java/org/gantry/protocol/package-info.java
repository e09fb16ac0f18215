/**
 * The AWS IoT Jobs device protocol as Gantry speaks it: the topics of one thing ({@link
 * org.gantry.protocol.JobsTopics}, {@link org.gantry.protocol.JobsTopic}), the payloads of every
 * request, answer and notification as immutable records, the JSON codec ({@link
 * org.gantry.protocol.JobsCodec}) and the service limits ({@link org.gantry.protocol.Limits}).
 *
 * <p>Both directions are covered: the engine (device side) encodes requests and decodes answers and
 * notifications; the hub and the test-side jobs service (service side) do the opposite. Every type
 * here is immutable and thread-safe. The wire shapes are those of {@code PROTOCOL.md}.
 *
 * <p>This package is exported for Gantry's own bundles; it is not part of the integrators' API.
 *
 * @since 1.0
 */
@Export
@Version("1.1.0")
package org.gantry.protocol;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
