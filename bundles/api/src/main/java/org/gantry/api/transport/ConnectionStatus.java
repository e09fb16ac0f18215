package org.gantry.api.transport;

import java.time.Instant;
import java.util.Optional;
import org.osgi.annotation.versioning.ProviderType;

/**
 * A consistent snapshot of an {@link MqttTransport}'s connection, for health checks and the shell.
 * The snapshot does not change after it was taken: ask {@link MqttTransport#status()} again for a
 * newer one.
 *
 * @since 1.1
 */
@ProviderType
public interface ConnectionStatus {

  /**
   * The state of the connection when the snapshot was taken.
   *
   * @return the state
   */
  ConnectionState state();

  /**
   * When the connection entered {@link #state()}.
   *
   * @return the instant of the last change of state
   */
  Instant since();

  /**
   * Why the last connection attempt failed or the last connection was lost, as a sentence for an
   * operator. Kept after the transport connected again, until the next failure replaces it.
   *
   * @return the last error, or empty if there has been none since activation
   */
  Optional<String> lastError();

  /**
   * How many times the transport connected again after it had lost a connection, since it was
   * activated. The first connection does not count.
   *
   * @return the number of reconnections
   */
  long reconnectCount();

  /**
   * Whether the broker keeps dropping the connection right after it is made, which is what a broker
   * does when another client connects with the same client id. While this is true the transport
   * waits much longer between attempts, so two gateways with the same id do not throw each other
   * off in a loop. It becomes false again once a connection stays up.
   *
   * @return whether a duplicate client id is suspected
   */
  boolean duplicateClientIdSuspected();

  /**
   * Durable messages ({@link MqttTransport#publishDurably}) accepted and not yet acknowledged by
   * the broker.
   *
   * @return the number of durable messages waiting or in flight
   */
  long durableBacklog();
}
