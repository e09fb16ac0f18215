package org.gantry.api.transport;

/**
 * Which thread calls a subscription's {@link MessageListener}.
 *
 * @since 1.2
 */
public enum Delivery {

  /**
   * On the transport's own delivery thread, one message at a time in order of arrival. The default,
   * and the right choice for a listener that does any work: a slow listener holds up only the
   * transport's bookkeeping, never the reading of the connection.
   */
  TRANSPORT_THREAD,

  /**
   * On the thread that takes the message from the MQTT client, in order of arrival, without a
   * hand-off to another thread: one thread switch less per message. Only for a listener that hands
   * the message on and returns at once (completes a future, offers it to a queue, wakes a thread of
   * its own). It must never block, sleep, do I/O, run code it does not own (such as callbacks of
   * other components), or wait for a stage of the transport: while it runs, no other message of the
   * connection is delivered or acknowledged. An implementation may still use its delivery thread.
   */
  IMMEDIATE
}
