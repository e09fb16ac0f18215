/**
 * The MQTT transport as the engine (and any other Gantry component) uses it: publish, subscribe
 * with confirmation, and connection events. Implementations own the connection; callers never see
 * the MQTT client library.
 *
 * <p>1.1 adds durable publishing, the connection status and the identity swap; 1.2 the choice of
 * the thread that delivers a subscription's messages ({@link org.gantry.api.transport.Delivery}).
 *
 * @since 1.0
 */
@Export
@Version("1.2.0")
package org.gantry.api.transport;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
