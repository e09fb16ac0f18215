package org.gantry.protocol;

import java.util.Objects;
import org.gantry.protocol.internal.WireCodec;

/**
 * Encodes the payload records of this package to the JSON of PROTOCOL.md and decodes them back.
 * Stateless and thread-safe; {@code new JobsCodec()} is cheap.
 *
 * <p>Encoding: null boxed fields are omitted; {@code statusDetails} of an execution is always
 * written, except that an empty one is omitted inside {@link NotifyNext}, as PROTOCOL.md shows;
 * {@code jobDocument} is embedded as a JSON value (its text compacted), not as a string.
 *
 * <p>Decoding: the payload must be strict UTF-8 and exactly one JSON object with no key twice
 * ({@link ErrorCode#INVALID_JSON} otherwise); unknown fields are ignored and a field whose value is
 * JSON null counts as absent; a wrong type or a missing required field is {@link
 * ErrorCode#INVALID_REQUEST} with a sentence naming the field by its path. {@code jobDocument}
 * becomes the compact JSON text of its value, copied as written (so a duplicate key inside a
 * document survives for the document parser to refuse). Requests are also validated: clientToken
 * 1-64 characters, a known status, stepTimeoutInMinutes 1-10080, expectedVersion and
 * executionNumber at least 1, statusDetails per {@link Limits#checkStatusDetails}. An unknown
 * {@code code} in a {@link Rejected} becomes {@link ErrorCode#INTERNAL_ERROR}; an unknown status in
 * an answer is INVALID_REQUEST.
 */
public final class JobsCodec {

  /**
   * @param message a record of this package (a request, an answer, a notification, or a {@link
   *     JobExecution}, {@link JobExecutionState} or {@link JobExecutionSummary})
   * @return its JSON as UTF-8 bytes
   * @throws IllegalArgumentException for any other type, or a {@code jobDocument} that is not
   *     exactly one valid JSON value
   */
  public byte[] encode(Object message) {
    return WireCodec.encode(message);
  }

  /**
   * @param payload the message bytes; not null
   * @param type one of the record classes {@link #encode} accepts
   * @param <T> the record type
   * @return the decoded record
   * @throws ProtocolException when the payload breaks the protocol, with the code a service would
   *     reject it with
   * @throws IllegalArgumentException when {@code type} is not a record of this package
   */
  public <T> T decode(byte[] payload, Class<T> type) throws ProtocolException {
    Objects.requireNonNull(payload, "payload");
    return WireCodec.decode(payload, type);
  }
}
