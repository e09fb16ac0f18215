package org.gantry.launcher;

import org.apache.felix.framework.Logger;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleException;
import org.osgi.framework.ServiceReference;

/**
 * Routes Felix's own log (resolver, cache, start-level errors) into the launcher's line format
 * instead of Felix's "ERROR: ..." lines and multi-line stack traces.
 */
final class FelixLogger extends Logger {

  private final LauncherLog log;

  FelixLogger(LauncherLog log, int level) {
    this.log = log;
    setLogLevel(level);
  }

  // Felix declares this with a raw ServiceReference; an override must keep that signature.
  @SuppressWarnings("rawtypes")
  @Override
  protected void doLog(
      Bundle bundle, ServiceReference sr, int level, String msg, Throwable throwable) {
    if (throwable instanceof BundleException && msg != null && msg.startsWith("Error starting ")) {
      // The launcher's framework listener reports the same failure, with the bundle's name and
      // the missing requirement, on one line.
      return;
    }
    StringBuilder line = new StringBuilder();
    if (bundle != null) {
      line.append(bundle.getSymbolicName()).append(' ').append(bundle.getVersion()).append(": ");
    }
    line.append(msg);
    if (throwable != null) {
      line.append(": ").append(throwable);
    }
    switch (level) {
      case LOG_ERROR -> log.error(line.toString());
      case LOG_WARNING -> log.warn(line.toString());
      default -> log.info(line.toString());
    }
  }
}
