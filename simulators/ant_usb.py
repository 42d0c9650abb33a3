"""The emulated ANT sticks as USB devices: a pyusb backend (``usb.backend.IBackend``), so
``usb.core.find(backend=...)`` lists them and openant's real code opens, configures and talks
to them as it would to an ANTUSB2 or ANTUSB-m.

Each stick has the descriptors of the real thing that openant and pyusb look at: vendor
0x0FCF, product 0x1008 (ANTUSB2) or 0x1009 (ANTUSB-m), one configuration, one vendor
interface with a bulk OUT endpoint 0x01 and a bulk IN endpoint 0x81, and manufacturer,
product and serial-number strings answered through GET_DESCRIPTOR control transfers, so
``usb.util.get_string(dev, dev.iSerialNumber)`` reads the serial. Errors are pyusb's own:
a read with nothing to say raises ``USBTimeoutError`` (LIBUSB_ERROR_TIMEOUT, errno
ETIMEDOUT), as libusb1's backend maps it, and a pulled stick fails every call with
``USBError`` LIBUSB_ERROR_NO_DEVICE (errno ENODEV).
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field
from typing import Any, Final

import usb.backend
from usb.core import USBError, USBTimeoutError

from simulators.ant_stick import (
    ANTUSB2,
    VENDOR_DYNASTREAM,
    EmulatedAntAir,
    EmulatedAntStick,
    StickUnplugged,
)

LIBUSB_ERROR_NO_DEVICE: Final = -4
LIBUSB_ERROR_TIMEOUT: Final = -7
EP_OUT: Final = 0x01
EP_IN: Final = 0x81
_GET_DESCRIPTOR: Final = 0x06
_STRING: Final = 3
_LANG_EN_US: Final = 0x0409
_STRINGS: Final = {1: "Dynastream Innovations", 2: "ANT USBStick2"}
_PRODUCTS: Final = {0x1008: "ANT USBStick2", 0x1009: "ANT USB-m Stick"}


def _gone() -> USBError:
    return USBError("No such device (it may have been disconnected)", LIBUSB_ERROR_NO_DEVICE,
                    errno.ENODEV)


@dataclass
class _Descriptor:
    fields: dict[str, Any]
    extra_descriptors: list[int] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["fields"][name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass
class _Handle:
    stick: EmulatedAntStick
    generation: int


class EmulatedUsbBackend(usb.backend.IBackend):
    """Every plugged stick of ``air`` as a USB device."""

    def __init__(self, air: EmulatedAntAir) -> None:
        self.air = air

    def enumerate_devices(self) -> list[EmulatedAntStick]:
        return [s for s in self.air.sticks if s.plugged]

    def get_parent(self, dev: EmulatedAntStick) -> None:
        return None

    def get_device_descriptor(self, dev: EmulatedAntStick) -> _Descriptor:
        index = self.air.sticks.index(dev)
        return _Descriptor(dict(
            bLength=18, bDescriptorType=1, bcdUSB=0x0200, bDeviceClass=0, bDeviceSubClass=0,
            bDeviceProtocol=0, bMaxPacketSize0=32, idVendor=VENDOR_DYNASTREAM,
            idProduct=dev.product_id, bcdDevice=0x0100, iManufacturer=1, iProduct=2,
            iSerialNumber=3, bNumConfigurations=1, address=index + 2, bus=1,
            port_number=index + 1, port_numbers=(index + 1,), speed=2))

    def get_configuration_descriptor(self, dev: EmulatedAntStick, config: int) -> _Descriptor:
        if config != 0:
            raise IndexError(config)
        return _Descriptor(dict(bLength=9, bDescriptorType=2, wTotalLength=32,
                                bNumInterfaces=1, bConfigurationValue=1, iConfiguration=0,
                                bmAttributes=0x80, bMaxPower=50))

    def get_interface_descriptor(self, dev: EmulatedAntStick, intf: int, alt: int,
                                 config: int) -> _Descriptor:
        if (intf, alt, config) != (0, 0, 0):
            raise IndexError((intf, alt, config))
        return _Descriptor(dict(bLength=9, bDescriptorType=4, bInterfaceNumber=0,
                                bAlternateSetting=0, bNumEndpoints=2, bInterfaceClass=0xFF,
                                bInterfaceSubClass=0, bInterfaceProtocol=0, iInterface=0))

    def get_endpoint_descriptor(self, dev: EmulatedAntStick, ep: int, intf: int, alt: int,
                                config: int) -> _Descriptor:
        if ep not in (0, 1) or (intf, alt, config) != (0, 0, 0):
            raise IndexError(ep)
        return _Descriptor(dict(bLength=7, bDescriptorType=5,
                                bEndpointAddress=EP_IN if ep == 0 else EP_OUT,
                                bmAttributes=2, wMaxPacketSize=64, bInterval=1, bRefresh=0,
                                bSynchAddress=0))

    def open_device(self, dev: EmulatedAntStick) -> _Handle:
        if not dev.plugged:
            raise _gone()
        return _Handle(dev, dev.generation)

    def _live(self, handle: _Handle) -> EmulatedAntStick:
        if not handle.stick.plugged or handle.generation != handle.stick.generation:
            raise _gone()
        return handle.stick

    def close_device(self, dev_handle: _Handle) -> None:
        pass

    def set_configuration(self, dev_handle: _Handle, config_value: int) -> None:
        self._live(dev_handle)

    def get_configuration(self, dev_handle: _Handle) -> int:
        self._live(dev_handle)
        return 1

    def set_interface_altsetting(self, dev_handle: _Handle, intf: int, altsetting: int) -> None:
        self._live(dev_handle)

    def claim_interface(self, dev_handle: _Handle, intf: int) -> None:
        self._live(dev_handle)

    def release_interface(self, dev_handle: _Handle, intf: int) -> None:
        self._live(dev_handle)

    def bulk_write(self, dev_handle: _Handle, ep: int, intf: int, data: Any,
                   timeout: int) -> int:
        try:
            dev_handle.stick.host_write(bytes(data), dev_handle.generation)
        except StickUnplugged:
            raise _gone() from None
        return len(data)

    def bulk_read(self, dev_handle: _Handle, ep: int, intf: int, buff: Any,
                  timeout: int) -> int:
        try:
            chunk = dev_handle.stick.host_read(len(buff), timeout / 1000.0,
                                               dev_handle.generation)
        except StickUnplugged:
            raise _gone() from None
        if chunk is None:
            raise USBTimeoutError("Operation timed out", LIBUSB_ERROR_TIMEOUT, errno.ETIMEDOUT)
        buff[:len(chunk)] = type(buff)(buff.typecode, chunk)
        return len(chunk)

    def ctrl_transfer(self, dev_handle: _Handle, bmRequestType: int, bRequest: int,
                      wValue: int, wIndex: int, data: Any, timeout: int) -> int:
        stick = self._live(dev_handle)
        if bRequest != _GET_DESCRIPTOR or wValue >> 8 != _STRING:
            return 0
        index = wValue & 0xFF
        if index == 0:
            body = _LANG_EN_US.to_bytes(2, "little")
        else:
            text = {**_STRINGS, 2: _PRODUCTS.get(stick.product_id, _STRINGS[2]),
                    3: stick.serial_text}.get(index)
            if text is None:
                raise USBError("Pipe error", -9, errno.EPIPE)
            body = text.encode("utf-16-le")
        desc = bytes((len(body) + 2, _STRING)) + body
        n = min(len(desc), len(data))
        data[:n] = type(data)(data.typecode, desc[:n])
        return n

    def clear_halt(self, dev_handle: _Handle, ep: int) -> None:
        self._live(dev_handle)

    def reset_device(self, dev_handle: _Handle) -> None:
        self._live(dev_handle)

    def is_kernel_driver_active(self, dev_handle: _Handle, intf: int) -> bool:
        self._live(dev_handle)
        return False

    def detach_kernel_driver(self, dev_handle: _Handle, intf: int) -> None:
        self._live(dev_handle)

    def attach_kernel_driver(self, dev_handle: _Handle, intf: int) -> None:
        self._live(dev_handle)


def emulated_backend(air: EmulatedAntAir) -> EmulatedUsbBackend:
    return EmulatedUsbBackend(air)


__all__ = ["ANTUSB2", "EmulatedUsbBackend", "emulated_backend"]
