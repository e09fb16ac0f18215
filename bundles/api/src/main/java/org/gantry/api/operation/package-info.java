/**
 * The operation SPI: what an operation bundle implements ({@link
 * org.gantry.api.operation.JobOperation}) and what the engine gives it while it runs ({@link
 * org.gantry.api.operation.OperationContext}).
 *
 * <p>An operation bundle depends on this API only. It registers a {@code JobOperation} service with
 * the service property {@value org.gantry.api.operation.JobOperation#TYPE} set to the operation
 * type that job documents name; the engine picks it up while the gateway runs (hot deployment).
 *
 * @since 1.0
 */
@Export
@Version("1.2.0")
package org.gantry.api.operation;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
