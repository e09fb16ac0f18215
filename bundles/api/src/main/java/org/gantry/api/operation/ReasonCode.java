package org.gantry.api.operation;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Why an execution did not succeed, in a form an operator can search for: a stable machine-readable
 * {@linkplain #name() code} and the {@linkplain #category() class of failure} it belongs to.
 *
 * <p>Gantry's own codes are enums, one per failure class ({@link DocumentReason}, {@link
 * DeviceReason}); a third-party operation may bring its own enum that implements this interface.
 * The engine reports both values in the execution's {@code statusDetails} (keys {@code reasonCode}
 * and {@code reasonCategory}) next to a human sentence, so that an operator reading the AWS IoT
 * console or the Gantry hub sees why the job failed.
 *
 * <p>Codes must match {@code [A-Z0-9_]{1,64}}; categories {@code [A-Z0-9_]{1,32}}.
 *
 * @since 1.0
 */
@ConsumerType
public interface ReasonCode {

  /**
   * The code itself, for example {@code OPERATION_NOT_INSTALLED}. Stable across releases.
   *
   * @return the code, never {@code null}
   */
  String name();

  /**
   * The class of failure the code belongs to, for example {@code DOCUMENT} or {@code DEVICE}.
   *
   * @return the category, never {@code null}
   */
  String category();
}
