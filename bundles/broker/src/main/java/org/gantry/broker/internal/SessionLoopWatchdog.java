package org.gantry.broker.internal;

import io.moquette.interception.AbstractInterceptHandler;
import io.moquette.interception.messages.InterceptExceptionMessage;
import java.util.function.Consumer;

/**
 * Hears of a Moquette session loop that died. In Moquette 0.17 one command that throws ends its
 * session loop for good, and every client whose id hashes to that loop can no longer connect,
 * subscribe or publish (fixed upstream after 0.17, moquette-io/moquette#957). The broker component
 * answers by restarting Moquette.
 */
final class SessionLoopWatchdog extends AbstractInterceptHandler {
  private final Consumer<Throwable> onLoopDied;

  SessionLoopWatchdog(Consumer<Throwable> onLoopDied) {
    this.onLoopDied = onLoopDied;
  }

  @Override
  public String getID() {
    return "gantry-session-loop-watchdog";
  }

  @Override
  public Class<?>[] getInterceptedMessageTypes() {
    return new Class<?>[] {InterceptExceptionMessage.class};
  }

  @Override
  public void onSessionLoopError(Throwable error) {
    onLoopDied.accept(error);
  }
}
