/**
 * The MQTT transport as the engine (and any other Gantry component) uses it: publish, subscribe
 * with confirmation, and connection events. Implementations own the connection; callers never see
 * the MQTT client library.
 *
 * @since 1.0
 */
@Export
@Version("1.0.0")
package org.gantry.api.transport;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
