import QRCode from 'qrcode';

/**
 * An entry code as the app shows it: a QR code, as SVG (scales to any screen) or PNG. Error
 * correction M (15 % of the symbol may be lost): a phone screen is clean but may glare. The code is
 * plain base64url, which QR byte mode carries as is.
 */
export const ENTRY_QR_ERROR_CORRECTION = 'M';
/** Pixels per QR module in the PNG. */
const PNG_MODULE_PX = 8;
/** Blank modules around the symbol (the QR standard asks for 4). */
const QUIET_ZONE_MODULES = 4;

export function entryCodeSvg(code: string): Promise<string> {
  return QRCode.toString(code, { type: 'svg', errorCorrectionLevel: ENTRY_QR_ERROR_CORRECTION, margin: QUIET_ZONE_MODULES });
}

export function entryCodePng(code: string): Promise<Buffer> {
  return QRCode.toBuffer(code, { type: 'png', errorCorrectionLevel: ENTRY_QR_ERROR_CORRECTION, margin: QUIET_ZONE_MODULES, scale: PNG_MODULE_PX });
}

/** The QR version (1..40; the symbol is 17 + 4 x version modules a side) a code needs. */
export function entryQrVersion(code: string): number {
  return QRCode.create(code, { errorCorrectionLevel: ENTRY_QR_ERROR_CORRECTION }).version;
}
