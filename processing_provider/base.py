"""Base class shared by every ``sarchange`` algorithm: errors, progress, raster inputs."""

import contextlib

from qgis.core import QgsApplication, QgsProcessingAlgorithm, QgsProcessingException
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon

from ..algorithms.common.cancel import Cancelled, cancel_scope, progress_scope, wait_for_abandoned
from ..algorithms.common.deps import MissingDependencyError
from ..algorithms.io.cluster import current_scheduler, scheduler_scope
from ..algorithms.io.outputs import output_transaction
from . import settings
from .icons import group_icon
from .outputs import OutputHelpers, message, remove_new_files
from .parameters import ParameterHelpers


def tr(text):
    """Translate a message of the ``SarChange`` context."""
    return QCoreApplication.translate("SarChange", text)


@contextlib.contextmanager
def _signals_cancel(feedback):
    """In ``qgis_process``, make SIGINT (Ctrl+C) and SIGTERM cancel the run like the toolbox's Cancel
    button: the outputs are rolled back and the process exits with an error. qgis_process alone
    only notices Ctrl+C while an algorithm reports progress, and SIGTERM not at all."""
    import signal
    import threading

    if (
        feedback is None
        or QgsApplication.platform() != "qgis_process"
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return
    previous = {}
    for number in (signal.SIGINT, signal.SIGTERM):
        try:
            previous[number] = signal.signal(number, lambda *_: feedback.cancel())
        except (ValueError, OSError):  # not the main interpreter
            pass
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)


class SarAlgorithm(ParameterHelpers, OutputHelpers, QgsProcessingAlgorithm):
    """Base of our algorithms.

    Subclasses declare ``name``, ``displayName``, ``group``, ``groupId``,
    ``shortHelpString``, ``initAlgorithm`` and implement :meth:`compute` instead of
    ``processAlgorithm``: errors from the science core (``ValueError``, a
    missing dependency, a cancel) become ``QgsProcessingException`` with the
    core's message, and outputs are never left half-written (the core writes
    through temporary files).

    Parameters are declared with the ``add_*`` helpers of :class:`.parameters.ParameterHelpers`;
    outputs are checked, placed and styled by :class:`.outputs.OutputHelpers`.
    """

    def __init_subclass__(cls, **kwargs):
        """A subclass's help names each parameter by its label as the form shows it, then its name."""
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("shortHelpString")
        if own is not None:

            def shortHelpString(self, _own=own):  # noqa: N802
                return self.help_with_labels(_own(self))

            cls.shortHelpString = shortHelpString

    def help_with_labels(self, text):
        """``<b>NAME</b>`` in a help text as ``<b>Label</b> (NAME)``, for every parameter of the form."""
        for definition in self.parameterDefinitions():
            name = definition.name()
            text = text.replace(f"<b>{name}</b>", f"<b>{definition.description()}</b> ({name})")
        return text

    def createInstance(self):  # noqa: N802
        return type(self)()

    def tr(self, text):
        return QCoreApplication.translate("SarChange", text)

    def icon(self):
        """The icon of the algorithm's group (``ui/icons/<groupId>.svg``), else the plugin's."""
        return QIcon(group_icon(self.groupId()))

    def svgIconPath(self):  # noqa: N802
        return group_icon(self.groupId())

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        files, sinks = self._check_destinations(parameters, context)
        self._sinks = sinks
        parameters = self._redirect_sinks(parameters, sinks)
        try:
            with (
                output_transaction(),
                cancel_scope(feedback.isCanceled if feedback is not None else None),
                progress_scope((lambda fraction: feedback.setProgress(100.0 * fraction)) if feedback else None),
                _signals_cancel(feedback),
                scheduler_scope(settings.get("dask_scheduler")),
            ):
                address = current_scheduler()
                if address is not None and feedback is not None:
                    feedback.pushInfo(self.tr("Blockwise steps run on the dask scheduler at {}.").format(address))
                results = self.compute(parameters, context, feedback)
                for name, style in self._declared_styles().items():
                    if results.get(name):
                        self.style_output(context, results[name], style)
                if feedback is not None and feedback.isCanceled():  # a cancel is never a success
                    raise Cancelled("cancelled by the user")
                results = self._place_sinks(results, context, sinks)
            if feedback is not None:
                feedback.setProgress(100)
            return results
        except BaseException as exc:
            remove_new_files(files)
            if isinstance(exc, QgsProcessingException):
                raise
            if isinstance(exc, MissingDependencyError):
                raise QgsProcessingException(str(exc)) from exc
            if isinstance(exc, Cancelled):
                if QgsApplication.platform() == "qgis_process":
                    # the process ends next: let the work the cancel left running finish first
                    wait_for_abandoned()
                raise QgsProcessingException(self.tr("Cancelled by the user; no output was written.")) from exc
            if isinstance(exc, (ValueError, OSError)):
                raise QgsProcessingException(f"{self.displayName()}: {message(exc)}") from exc
            raise

    def compute(self, parameters, context, feedback):
        """Do the work; return the results dict. Subclasses override this."""
        raise NotImplementedError

    def error(self, message, *values):
        """A QgsProcessingException with a translated ``message`` formatted with ``values`` ({} fields)."""
        return QgsProcessingException(f"{self.displayName()}: " + self.tr(message).format(*values))

    @staticmethod
    def progress_fn(feedback, start=0.0, end=100.0):
        """A callable taking a fraction 0-1 and setting ``feedback`` progress between ``start`` and ``end`` %."""
        return lambda fraction: feedback.setProgress(start + (end - start) * fraction)

    @staticmethod
    def cancel_fn(feedback):
        """A callable telling whether the user cancelled."""
        return feedback.isCanceled
