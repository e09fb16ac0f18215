package org.gantry.api.transport;

import org.osgi.annotation.versioning.ProviderType;

/**
 * An open subscription. Closing it unsubscribes and stops delivery to its listener.
 *
 * @since 1.0
 */
@ProviderType
public interface Subscription extends AutoCloseable {

  /**
   * The topic filter.
   *
   * @return the filter this subscription was made with
   */
  String filter();

  /** Unsubscribes. Idempotent; never throws. */
  @Override
  void close();
}
